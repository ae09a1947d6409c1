"""The worker process: keeps the models warm and works the analysis queue.

RQ's default worker forks a child per job, which would load the Whisper model once per job.
:class:`WarmWorker` runs jobs in its own process (like RQ's SimpleWorker) so the model stays
loaded, and sends heartbeats from a thread while a job runs so that, if the process dies, the
job is found abandoned within ``heartbeat_s`` and retried by another worker.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Any

from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus

from speechqa.calls import repository
from speechqa.calls.recordings import apply_retention
from speechqa.logs import bind
from speechqa.pipeline import redaction
from speechqa.pipeline.transcription import ModelSpec, load_model
from speechqa.settings import Settings
from speechqa.storage.database import migrate, session_scope
from speechqa.storage.tables import CallStatus, utcnow
from workers import metrics as job_metrics
from workers import queue as jobs_queue
from workers.redis_server import connect

log = logging.getLogger(__name__)


class ObservedWorker(SimpleWorker):
    """Runs jobs in its own process (no fork per job) and gives each job a log line and its
    metrics: the analysis worker below, and the webhook worker."""

    settings: Settings | None = None

    def execute_job(self, job: Job, queue: Queue) -> Any:
        started = time.monotonic()
        try:
            with bind(job_id=job.id), job_metrics.running(job):
                return super().execute_job(job, queue)
        finally:
            self._finished(job, time.monotonic() - started)

    def _finished(self, job: Job, seconds: float) -> None:
        """The job's log line (job id, function, the id it works on, outcome) and metrics."""
        try:
            outcome = _outcome(job)
            function = job_metrics.function_of(job)
            subject = job.args[0] if job.args and isinstance(job.args[0], str | int) else None
            log.info(
                "job %s %s(%s) %s in %.1f s", job.id, function, subject or "", outcome, seconds,
                extra={"job_id": job.id, "function": function, "subject": subject,
                       "outcome": outcome, "duration_s": round(seconds, 3)},
            )  # fmt: skip
            if self.settings is not None:
                job_metrics.record(self.settings, job, outcome, seconds)
        except Exception:  # a job's bookkeeping never stops the worker
            log.exception("logging or measuring job %s failed", job.id)


class WarmWorker(ObservedWorker):
    heartbeat_s: int = 60

    def run_maintenance_tasks(self) -> None:
        """RQ's registry clean-up (which retries abandoned jobs), then re-queue lost calls."""
        super().run_maintenance_tasks()  # type: ignore[no-untyped-call]
        if self.settings is not None:
            try:
                requeue_orphans(self.settings, grace_s=self.heartbeat_s)
            except Exception:  # the next sweep tries again
                log.exception("re-queueing calls without a job failed")
            if self.settings.audio_retention_days:
                try:
                    with session_scope(self.settings) as session:
                        apply_retention(session, self.settings, self.settings.audio_retention_days)
                except Exception:
                    log.exception("applying audio retention failed")

    def get_heartbeat_ttl(self, job: Job) -> int:
        return self.heartbeat_s

    def execute_job(self, job: Job, queue: Queue) -> Any:
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.heartbeat_s / 4):
                try:
                    self.maintain_heartbeats(job)
                except Exception:  # a missed beat is retried on the next tick
                    log.debug("heartbeat failed", exc_info=True)

        thread = threading.Thread(target=beat, name="rq-heartbeat", daemon=True)
        thread.start()
        try:
            return super().execute_job(job, queue)
        finally:
            stop.set()
            thread.join()


def _outcome(job: Job) -> str:
    """finished, failed (for good), or retrying (failed, queued again)."""
    status = job.get_status(refresh=False)
    if status == JobStatus.FINISHED:
        return "finished"
    if status in (JobStatus.QUEUED, JobStatus.SCHEDULED):
        return "retrying"
    return "failed"


def requeue_orphans(settings: Settings, grace_s: float = 0) -> list[str]:
    """Queue again every unfinished call that has no live job (e.g. Redis lost its data, or the
    API could not reach Redis after storing a call). ``grace_s`` leaves alone calls that changed
    more recently (an API request may be about to enqueue them)."""
    connection = connect(settings)
    older_than = utcnow() - timedelta(seconds=grace_s) if grace_s else None
    with session_scope(settings) as session:
        pending = repository.stale_calls(
            session, (CallStatus.QUEUED, CallStatus.TRANSCRIBING, CallStatus.ANALYZING), older_than
        )
    requeued = []
    for call_id in pending:
        if not jobs_queue.has_live_job(connection, call_id):
            jobs_queue.enqueue_analysis(settings, connection, call_id)
            requeued.append(call_id)
    return requeued


def build_worker(
    settings: Settings, *, heartbeat_s: int = 60, name: str | None = None
) -> WarmWorker:
    connection = connect(settings)
    worker = WarmWorker(
        [jobs_queue.get_queue(settings, connection)],
        connection=connection,
        name=name,
        maintenance_interval=max(heartbeat_s, 10),
        # An idle worker waits for jobs this long at a time (worker_ttl - 15 s), then sweeps:
        # so abandoned jobs are found within a heartbeat or two, not RQ's default 7 minutes.
        worker_ttl=heartbeat_s + 15,
    )
    worker.heartbeat_s = heartbeat_s
    worker.settings = settings
    return worker


def run_worker(settings: Settings, *, burst: bool = False, heartbeat_s: int = 60) -> None:
    """Migrate, load the ASR model, re-queue lost calls, then work the queue."""
    migrate(settings)
    load_model(ModelSpec.from_settings(settings))
    if {"NAME", "ADDRESS"} & set(settings.redact):
        redaction.load_ner(settings.redaction_ner_model)  # says at start-up when there is none
    requeued = requeue_orphans(settings)
    if requeued:
        log.info("re-queued %d call(s) that had no job", len(requeued))
    build_worker(settings, heartbeat_s=heartbeat_s).work(burst=burst, with_scheduler=False)
