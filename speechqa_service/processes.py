"""The service's processes for the CLI: a worker, and ``speechqa serve``'s API with its workers
(and the embedded Redis when none is configured).

The workers' and the app's modules are imported inside the functions: ``serve`` names the
metrics folder (``PROMETHEUS_MULTIPROC_DIR``) before any module imports prometheus_client, which
reads it once, at its import.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from speechqa.settings import Settings


def run_worker(
    settings: Settings, *, webhooks: bool, burst: bool, heartbeat_s: int, metrics_port: int | None
) -> None:
    """Work the analysis queue (or, ``webhooks``, the webhook queue) until stopped or, with
    ``burst``, until it is empty; this worker's metrics on ``metrics_port`` (None: off)."""
    from speechqa_service.workers import metrics
    from speechqa_service.workers.redis_server import EmbeddedRedis
    from speechqa_service.workers.webhooks import run_webhook_worker
    from speechqa_service.workers.worker import run_worker as run_analysis_worker

    metrics.expose(metrics_port)
    embedded = EmbeddedRedis(settings).start() if not settings.redis_url else None
    try:
        if webhooks:
            run_webhook_worker(settings, burst=burst)
        else:
            run_analysis_worker(settings, burst=burst, heartbeat_s=heartbeat_s)
    finally:
        if embedded is not None:
            embedded.stop()


def serve(
    settings: Settings,
    *,
    host: str,
    port: int,
    worker_command: Sequence[str],
    workers: int,
    webhook_workers: int,
    api_processes: int,
    on_up: Callable[[], None],
) -> None:
    """Run the API (``api_processes`` of them) and, beside it, ``workers`` analysis workers and
    ``webhook_workers`` webhook workers, each ``worker_command`` (plus ``--queue webhooks``),
    restarted when one dies; ``on_up`` runs once they are started, before the API listens.
    Returns when the API stops, after stopping the workers and the embedded Redis."""
    import uvicorn

    from speechqa.storage.database import migrate
    from speechqa_service.workers.redis_server import EmbeddedRedis, redis_url
    from speechqa_service.workers.supervisor import RunRecord, Supervisor

    record = RunRecord(settings.data_dir)
    embedded: EmbeddedRedis | None = None
    supervisor: Supervisor | None = None
    hooks: Supervisor | None = None  # the webhook worker

    def children() -> list[int]:
        return [*(supervisor.pids if supervisor else []), *(hooks.pids if hooks else [])]

    try:
        record.claim()
        # Every process of this run (this one, API processes, workers) writes its metrics there,
        # and /metrics adds them up; it is set before any of them imports prometheus_client.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_fresh_metrics_dir(settings))
        from speechqa_service.app import create_app
        from speechqa_service.workers.metrics import process_exited

        embedded = EmbeddedRedis(settings).start() if not settings.redis_url else None
        migrate(settings)
        env = dict(os.environ, SPEECHQA_REDIS_URL=redis_url(settings))
        env["SPEECHQA_DATA_DIR"] = str(settings.data_dir.resolve())
        redis_pids = [embedded.process.pid] if embedded and embedded.process else []
        supervisor = Supervisor(
            list(worker_command),
            env,
            workers,
            on_restart=lambda _: record.write(children(), redis_pids),
            on_exit=process_exited,
        ).start()
        hooks = Supervisor(
            [*worker_command, "--queue", "webhooks"],
            env,
            webhook_workers,
            on_restart=lambda _: record.write(children(), redis_pids),
            on_exit=process_exited,
        ).start()
        record.write(children(), redis_pids)
        on_up()
        if api_processes == 1:
            uvicorn.run(
                create_app(settings), host=host, port=port, log_level="warning", log_config=None
            )
        else:  # each process builds its app from the same environment
            os.environ.update(env)
            uvicorn.run(
                "speechqa_service.app:from_environment",
                factory=True,
                host=host,
                port=port,
                workers=api_processes,
                log_level="warning",
                log_config=None,
            )
    finally:
        if supervisor is not None:
            supervisor.stop()
        if hooks is not None:
            hooks.stop()
        if embedded is not None:
            embedded.stop()
        record.release()


def _fresh_metrics_dir(settings: Settings) -> Path:
    """An empty ``metrics`` folder in the data dir (a previous run's files are stale)."""
    folder = (settings.data_dir / "metrics").resolve()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700, parents=True)
    return folder
