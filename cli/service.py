"""Running the service: ``speechqa serve`` (API, workers, embedded Redis), ``speechqa worker``."""

from __future__ import annotations

import enum
import json
import logging
import signal
import sys
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn
from rich.table import Table

from speechqa.errors import SpeechQAError
from speechqa.settings import Settings
from speechqa.storage import datadir

from .common import console, fail, setup_logging


class WorkerQueue(enum.StrEnum):
    ANALYSIS = "analysis"
    WEBHOOKS = "webhooks"


def worker(
    burst: Annotated[bool, typer.Option(help="Exit when the queue is empty.")] = False,
    queue: Annotated[
        WorkerQueue,
        typer.Option(
            help="analysis: transcribe and score calls; webhooks: send webhook deliveries "
            "(loads no model)."
        ),
    ] = WorkerQueue.ANALYSIS,
    heartbeat: Annotated[
        int, typer.Option(help="Seconds before a dead worker's job is retried.")
    ] = 60,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=65535,
            help="Serve this worker's Prometheus metrics on this port "
            "(default: SPEECHQA_WORKER_METRICS_PORT, unset: off).",
        ),
    ] = None,
    quiet_queue: Annotated[
        bool, typer.Option(hidden=True, help="rq's own job lines at WARNING (serve's workers).")
    ] = False,
    verbose: bool = False,
) -> None:
    """Work the analysis queue, or the webhook queue (start more, on more machines, to scale
    out)."""
    from speechqa_service.processes import run_worker

    settings = setup_logging(verbose)
    if quiet_queue:  # "Job OK", "result is kept for ...": noise under serve's progress bars
        for handler in logging.getLogger().handlers:  # rq sets its loggers' levels itself
            handler.addFilter(_quiet_rq)
    datadir.secure(settings)
    try:
        run_worker(
            settings,
            webhooks=queue is WorkerQueue.WEBHOOKS,
            burst=burst,
            heartbeat_s=heartbeat,
            metrics_port=metrics_port or settings.worker_metrics_port,
        )
    except SpeechQAError as exc:
        raise fail(exc) from exc


def _quiet_rq(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or not record.name.startswith("rq.")


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes to start beside the API.")] = 1,
    webhook_workers: Annotated[
        int, typer.Option(min=0, max=16, help="Webhook delivery workers (they load no model).")
    ] = 1,
    api_processes: Annotated[
        int, typer.Option(min=1, max=64, help="API processes (more serve more readers at once).")
    ] = 1,
    samples: Annotated[
        Path | None, typer.Option(help="Submit the recordings in this folder once up.")
    ] = None,
    verbose: bool = False,
) -> None:
    """Run the API and workers; with nothing configured, embedded Redis and SQLite."""
    from speechqa_service import processes

    settings = setup_logging(verbose)
    datadir.secure(settings)
    host = host or settings.host
    port = port or settings.port
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again: make that an exit
    # through the finally of processes.serve, so the workers and the embedded Redis stop with us.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    command = [sys.executable, "-m", "speechqa_service.cli.main", "worker"]
    if not verbose and settings.log_level != "DEBUG":
        command.append("--quiet-queue")

    def up() -> None:
        if samples is not None:
            threading.Thread(
                target=_submit_samples, args=(settings, samples, host, port), daemon=True
            ).start()
        console.print(f"speechqa listening on http://{host}:{port}  (API docs: /docs)")

    try:
        processes.serve(
            settings,
            host=host,
            port=port,
            worker_command=command,
            workers=workers,
            webhook_workers=webhook_workers,
            api_processes=api_processes,
            on_up=up,
        )
    except SpeechQAError as exc:
        raise fail(exc) from exc


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _submit_samples(settings: Settings, folder: Path, host: str, port: int) -> None:
    """Submit every recording in ``folder`` over HTTP and show their progress."""
    import httpx

    from speechqa.apikeys import Scope, create_key
    from speechqa.storage.database import session_scope

    base = f"http://{host}:{port}"
    # This poller's own requests would fill the screen with request log lines under the
    # progress bars; they are quiet until the table is printed.
    requests_log = logging.getLogger("api.requests")
    level = requests_log.level
    requests_log.setLevel(logging.WARNING)
    with session_scope(settings) as session:
        key = create_key(session, [Scope.INGEST, Scope.REVIEW], name="samples")
    headers = {"Authorization": f"Bearer {key}"}
    client = httpx.Client(base_url=base, headers=headers, timeout=60)
    for _ in range(200):
        try:
            if client.get("/healthz").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    files = sorted(
        p for p in folder.iterdir() if p.suffix.lower() in {".wav", ".mp3", ".flac", ".ogg", ".m4a"}
    )
    submitted: list[tuple[str, str]] = []
    for path in files:
        meta = _sample_metadata(path)
        with path.open("rb") as fh:
            r = client.post(
                "/v1/calls",
                files={"audio": (path.name, fh, "audio/wav")},
                data={"metadata": json.dumps(meta)},
            )
        if r.status_code >= 300:
            console.print(f"[red]{path.name}: {r.json()['error']['message']}[/red]")
            continue
        submitted.append((path.name, r.json()["id"]))
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), console=console
    ) as bar:
        tasks = {cid: bar.add_task(name, total=1.0) for name, cid in submitted}
        names = {cid: name for name, cid in submitted}
        pending = set(tasks)
        while pending:
            for cid in list(pending):
                status = client.get(f"/v1/calls/{cid}/status").json()
                bar.update(
                    tasks[cid],
                    completed=status["progress"],
                    description=f"{status['status']:>12}  {names[cid]}",
                )
                if status["status"] in ("done", "failed"):
                    pending.discard(cid)
            time.sleep(0.5)
    table = Table(title="Sample calls")
    for col in ("file", "status", "duration", "score", "critical fail"):
        table.add_column(col)
    table.add_column("page", no_wrap=True)
    for name, cid in submitted:
        doc = client.get(f"/v1/calls/{cid}").json()
        duration = f"{doc['duration_s']:.1f} s" if doc["duration_s"] else "-"
        final = (doc.get("review") or {}).get("final") or doc.get("score") or {}
        score = f"{final['value']:.0f}" if final.get("value") is not None else "-"
        critical = "yes" if final.get("critical_fail") else "no" if final else "-"
        table.add_row(name, doc["status"], duration, score, critical, f"{base}/calls/{cid}")
    # Wide enough for the whole addresses, also when the output is piped (rich assumes 80).
    (console if console.width >= 140 else Console(width=140, stderr=True)).print(table)
    people = _demo_users(settings)
    users = Table(title=f"Sign in at {base}/ with a key (each shown only here)")
    for col in ("user", "role", "sees", "key"):
        users.add_column(col, no_wrap=col == "key")
    for person in people:
        users.add_row(person.name, person.role, person.sees, person.key)
    (console if console.width >= 140 else Console(width=140, stderr=True)).print(users)
    console.print(
        "More people: speechqa user create NAME --role reviewer --team billing, then "
        "speechqa apikey create --user NAME (run them in this folder).",
        soft_wrap=True,
    )
    console.print("Read a call over the API with the lead's key:", soft_wrap=True)
    console.print(
        f"  curl -H 'Authorization: Bearer {people[0].key}' {base}/v1/calls/<call id>",
        soft_wrap=True,
    )
    console.print(f"API documentation: {base}/docs   Stop the service with Ctrl-C.")
    requests_log.setLevel(level)


def _sample_metadata(path: Path) -> dict[str, Any]:
    """The upload metadata of a sample recording, from the ``metadata`` of its ``.json``
    reference (agent, team, and a start ``days_ago`` at a UTC ``time`` of day)."""
    meta: dict[str, Any] = {"external_id": f"sample-{path.stem}", "agent_id": "sample-agent"}
    ref = path.with_suffix(".json")
    if not ref.exists():
        return meta
    reference = json.loads(ref.read_text())
    meta["channels"] = reference.get("channels")
    sample = reference.get("metadata") or {}
    meta.update({k: sample[k] for k in ("agent_id", "agent_name", "team") if k in sample})
    if "days_ago" in sample:
        hour, minute = (int(n) for n in str(sample.get("time", "10:00")).split(":"))
        day = datetime.now(UTC) - timedelta(days=int(sample["days_ago"]))
        meta["started_at"] = day.replace(hour=hour, minute=minute, second=0, microsecond=0)
        meta["started_at"] = meta["started_at"].isoformat()
    return meta


@dataclass(frozen=True)
class DemoUser:
    name: str
    role: str
    teams: tuple[str, ...] = ()
    agent_id: str | None = None
    key: str = ""

    @property
    def sees(self) -> str:
        if self.agent_id:
            return f"their own calls ({self.agent_id})"
        return ", ".join(self.teams) or "every team"


DEMO_USERS = (
    DemoUser("lead@example.com", "lead"),
    DemoUser("coach@example.com", "coach", teams=("billing",)),
    DemoUser("reviewer@example.com", "reviewer", teams=("billing",)),
    DemoUser("a-17", "agent", agent_id="a-17"),
)
"""The people a newcomer tries the app as, one per role, with the sample calls' teams."""


def _demo_users(settings: Settings) -> list[DemoUser]:
    """Make the demo users (once) and a fresh key for each."""
    from speechqa.apikeys import create_key
    from speechqa.storage.database import session_scope
    from speechqa.users import create_user, list_users

    with session_scope(settings) as session:
        existing = {u.name for u in list_users(session)}
        out = []
        for person in DEMO_USERS:
            if person.name not in existing:
                create_user(
                    session, person.name, person.role, teams=person.teams, agent_id=person.agent_id
                )
            key = create_key(session, [], name="samples", user=person.name)
            out.append(replace(person, key=key))
    return out
