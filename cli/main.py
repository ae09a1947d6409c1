"""The ``speechqa`` command: serve, worker, analyze, submit, apikey.

The CLI composes the parts (core, API, workers); it holds no analysis logic of its own.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from speechqa.errors import SpeechQAError
from speechqa.settings import ROLES, Settings, get_settings

app = typer.Typer(
    help="speechqa: speech analytics for contact-center call review.", no_args_is_help=True
)
apikey_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")
rules_app = typer.Typer(help="Check, store and apply rulesets.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
console = Console(stderr=True)


def _settings() -> Settings:
    try:
        return get_settings()
    except Exception as exc:
        console.print(f"[red]Invalid settings:[/red] {exc}")
        raise typer.Exit(2) from exc


def _fail(exc: SpeechQAError) -> typer.Exit:
    console.print(f"[red]error ({exc.code}):[/red] {exc.message}")
    return typer.Exit(1)


def _logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        for noisy in ("httpx", "httpcore", "faster_whisper", "alembic"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


@app.command()
def analyze(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A call recording.")],
    channels: Annotated[
        str | None, typer.Option(help="Roles of the left,right channels of a stereo call.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the call document as JSON.")
    ] = False,
    ruleset_file: Annotated[
        Path | None,
        typer.Option(
            "--ruleset", exists=True, dir_okay=False, help="Ruleset YAML (default: shipped)."
        ),
    ] = None,
) -> None:
    """Analyse one recording in this process and print the result."""
    from speechqa.analysis import transcribe_call
    from speechqa.document import CallHeader, build_document
    from speechqa.metrics import call_metrics, conversation
    from speechqa.rulesets import default_ruleset_text, load_ruleset
    from speechqa.scoring import evaluate

    settings = _settings()
    try:
        text = ruleset_file.read_text(encoding="utf-8") if ruleset_file else default_ruleset_text()
        ruleset = load_ruleset(text)
    except SpeechQAError as exc:
        _print_problems(exc)
        raise typer.Exit(1) from exc
    channel_map = None
    if channels:
        roles = [r.strip() for r in channels.split(",")]
        if len(roles) != 2 or set(roles) != set(ROLES):
            console.print("[red]--channels takes two roles, e.g. agent,customer[/red]")
            raise typer.Exit(2)
        channel_map = {"left": roles[0], "right": roles[1]}
    try:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task(file.name, total=1.0)

            def on_progress(stage: str, fraction: float) -> None:
                bar.update(task, completed=fraction, description=f"{file.name}: {stage}")

            transcript = transcribe_call(
                file,
                settings,
                channel_map=channel_map,
                progress=on_progress,
                hotwords=ruleset.vocabulary(),
                agent_phrases=ruleset.spec.agent_phrases,
            )
    except SpeechQAError as exc:
        raise _fail(exc) from exc
    header = CallHeader(
        id=file.stem,
        status="done",
        duration_s=transcript.duration_s,
        source_channels=transcript.source_channels,
        channels=transcript.channels,
        roles_estimated=transcript.roles_estimated,
        language=transcript.language,
    )
    speech = {k: [[iv.start, iv.end] for iv in v] for k, v in transcript.speech.items()}
    measured = conversation(speech, transcript.utterances, transcript.duration_s)
    evaluation = evaluate(
        ruleset,
        transcript.utterances,
        duration_s=transcript.duration_s,
        metrics=call_metrics(transcript.utterances, transcript.duration_s, measured),
    )
    doc = build_document(header, transcript.utterances, evaluation.as_dict(), measured)
    if as_json:
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    _print_report(doc, file.name)


def _print_problems(exc: SpeechQAError) -> None:
    console.print(f"[red]error ({exc.code}):[/red] {exc.message.split(':')[0]}")
    for problem in exc.details or []:
        where = problem.get("where", "")
        line = f" line {problem['line']}" if "line" in problem else ""
        column = f", column {problem['column']}" if "column" in problem else ""
        console.print(f"  {where}{line}{column}: {problem.get('message', problem.get('problem'))}")


def _print_report(doc: dict[str, Any], name: str) -> None:
    out = Console()
    out.print(
        f"[bold]{name}[/bold]: {doc['duration_s']:.1f} s, {len(doc['utterances'])} utterances"
    )
    for u in doc["utterances"]:
        when = f"[dim]{u['start']:7.2f}-{u['end']:7.2f}[/dim]"
        out.print(f"{when} [bold]{u['speaker']:>9}[/bold]  {u['text']}")
    score = doc.get("score")
    if score:
        table = Table(
            title=f"Scorecard ({score['ruleset']}): {score['value']} / 100"
            + ("  [red]CRITICAL FAIL[/red]" if score["critical_fail"] else "")
        )
        for col in ("section", "item", "points", "result"):
            table.add_column(col)
        for section in score["sections"]:
            for item in section["items"]:
                points = f"{item['earned']:g}/{item['possible']:g}" if item["applicable"] else "N/A"
                table.add_row(section["name"], item["item"], points, item["reason"])
        out.print(table)
    if doc.get("script"):
        out.print(f"Script adherence: {doc['script']['adherence']:.0%}")


@rules_app.command("validate")
def rules_validate(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A ruleset YAML file.")],
) -> None:
    """Check a ruleset file; every problem is listed with its line."""
    from speechqa.rulesets import load_ruleset

    try:
        ruleset = load_ruleset(file.read_text(encoding="utf-8"))
    except SpeechQAError as exc:
        _print_problems(exc)
        raise typer.Exit(1) from exc
    spec = ruleset.spec
    items = sum(len(s.items) for s in spec.scorecard.sections) if spec.scorecard else 0
    steps = len(spec.script.steps) if spec.script else 0
    print(
        f"{file}: ruleset '{ruleset.name}' is valid: {len(ruleset.rules)} rules, "
        f"{steps} script steps, {items} scorecard items"
    )


@rules_app.command("push")
def rules_push(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A ruleset YAML file.")],
) -> None:
    """Store a ruleset file as the next version of its ruleset."""
    from speechqa import ruleset_store
    from speechqa.db import migrate, session_scope

    settings = _settings()
    try:
        migrate(settings)
        with session_scope(settings) as session:
            stored = ruleset_store.put(session, file.read_text(encoding="utf-8"))
    except SpeechQAError as exc:
        _print_problems(exc)
        raise typer.Exit(1) from exc
    state = "stored as" if stored.created else "unchanged at"
    print(f"ruleset '{stored.name}' {state} version {stored.version}")


@rules_app.command("rescore")
def rules_rescore(
    name: Annotated[str, typer.Argument(help="Ruleset name.")],
    version: Annotated[int | None, typer.Option(help="Version (default: the newest).")] = None,
) -> None:
    """Re-score stored transcripts with a ruleset version, here and now (no transcription)."""
    from speechqa.db import migrate
    from speechqa.rescoring import rescore

    settings = _settings()
    with Progress(
        TextColumn("rescoring"), BarColumn(), TaskProgressColumn(), console=console
    ) as bar:
        task = bar.add_task("rescore", total=None)
        try:
            migrate(settings)
            used, calls = rescore(
                settings,
                name,
                version,
                lambda done, total: bar.update(task, completed=done, total=total),
            )
        except SpeechQAError as exc:
            raise _fail(exc) from exc
    print(f"rescored {calls} calls with ruleset '{name}' version {used}")


@app.command()
def sentiment(
    model: Annotated[
        Path | None, typer.Option(help="Model directory (default: the shipped model).")
    ] = None,
) -> None:
    """Read lines of text on stdin; write one JSON object per line: {"label", "score"}."""
    from speechqa.sentiment import load_model

    settings = _settings()
    try:
        classifier = load_model(model or settings.sentiment_model, settings.sentiment_threads)
    except SpeechQAError as exc:
        raise _fail(exc) from exc
    batch: list[str] = []

    def flush() -> None:
        for result in classifier.predict(batch):
            sys.stdout.write(json.dumps(result.as_dict()) + "\n")
        sys.stdout.flush()
        batch.clear()

    for line in sys.stdin:
        batch.append(line.rstrip("\n"))
        if len(batch) >= 64:
            flush()
    flush()


@apikey_app.command("create")
def apikey_create(
    scope: Annotated[list[str], typer.Option(help="ingest, review, coach or admin (repeatable).")],
    name: Annotated[str | None, typer.Option(help="Who the key is for.")] = None,
) -> None:
    """Create an API key; it is printed once, alone on the last line."""
    from speechqa.apikeys import create_key, parse_scopes
    from speechqa.db import migrate, session_scope

    settings = _settings()
    try:
        scopes = parse_scopes(scope)
        migrate(settings)
        with session_scope(settings) as session:
            key = create_key(session, scopes, name=name)
    except SpeechQAError as exc:
        raise _fail(exc) from exc
    console.print(f"API key with scopes {', '.join(scopes)} (shown once, store it now):")
    print(key)


@app.command()
def worker(
    burst: Annotated[bool, typer.Option(help="Exit when the queue is empty.")] = False,
    heartbeat: Annotated[
        int, typer.Option(help="Seconds before a dead worker's job is retried.")
    ] = 60,
    verbose: bool = False,
) -> None:
    """Work the analysis queue (start more, on more machines, to scale out)."""
    from workers.redis_server import EmbeddedRedis
    from workers.worker import run_worker

    _logging(verbose)
    settings = _settings()
    embedded = EmbeddedRedis(settings).start() if not settings.redis_url else None
    try:
        run_worker(settings, burst=burst, heartbeat_s=heartbeat)
    except SpeechQAError as exc:
        raise _fail(exc) from exc
    finally:
        if embedded is not None:
            embedded.stop()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes to start beside the API.")] = 1,
    samples: Annotated[
        Path | None, typer.Option(help="Submit the recordings in this folder once up.")
    ] = None,
    verbose: bool = False,
) -> None:
    """Run the API and workers; with nothing configured, embedded Redis and SQLite."""
    import uvicorn

    from api.app import create_app
    from speechqa.db import migrate
    from workers.redis_server import EmbeddedRedis, redis_url

    _logging(verbose)
    settings = _settings()
    host = host or settings.host
    port = port or settings.port
    embedded = EmbeddedRedis(settings).start() if not settings.redis_url else None
    children: list[subprocess.Popen[bytes]] = []
    try:
        migrate(settings)
        env = dict(os.environ, SPEECHQA_REDIS_URL=redis_url(settings))
        env["SPEECHQA_DATA_DIR"] = str(settings.data_dir.resolve())
        for _ in range(workers):
            children.append(subprocess.Popen([sys.executable, "-m", "cli.main", "worker"], env=env))
        if samples is not None:
            threading.Thread(
                target=_submit_samples, args=(settings, samples, host, port), daemon=True
            ).start()
        console.print(f"speechqa listening on http://{host}:{port}  (API docs: /docs)")
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
    except SpeechQAError as exc:
        raise _fail(exc) from exc
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
        if embedded is not None:
            embedded.stop()


def _submit_samples(settings: Settings, folder: Path, host: str, port: int) -> None:
    """Submit every recording in ``folder`` over HTTP and show their progress."""
    import httpx

    from speechqa.apikeys import Scope, create_key
    from speechqa.db import session_scope

    base = f"http://{host}:{port}"
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
        meta: dict[str, Any] = {"external_id": f"sample-{path.stem}", "agent_id": "sample-agent"}
        ref = path.with_suffix(".json")
        if ref.exists():
            meta["channels"] = json.loads(ref.read_text()).get("channels")
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
    for col in ("file", "status", "duration", "utterances"):
        table.add_column(col)
    table.add_column("call id", no_wrap=True)
    for name, cid in submitted:
        doc = client.get(f"/v1/calls/{cid}").json()
        duration = f"{doc['duration_s']:.1f} s" if doc["duration_s"] else "-"
        table.add_row(name, doc["status"], duration, str(len(doc["utterances"])), cid)
    console.print(table)
    console.print("Read a call (this key can submit and review):", soft_wrap=True)
    console.print(
        f"  curl -H 'Authorization: Bearer {key}' {base}/v1/calls/<call id>", soft_wrap=True
    )
    console.print(f"API documentation: {base}/docs   Stop the service with Ctrl-C.")


if __name__ == "__main__":
    app()
