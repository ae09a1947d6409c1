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

from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus

from speechqa import redaction
from speechqa.calls import repository
from speechqa.calls.recordings import apply_retention
from speechqa.logs import bind
from speechqa.pipeline.transcription import ModelSpec, load_model
from speechqa.settings import Settings
from speechqa.storage.audio import audio_store, clean_spool
from speechqa.storage.database import migrate, session_scope
from speechqa.storage.tables import CallStatus, utcnow

from . import metrics as job_metrics
from . import queue as jobs_queue
from .redis_server import connect, wait_for_redis

log = logging.getLogger(__name__)


class ObservedWorker(SimpleWorker):
    """Runs jobs in its own process (no fork per job) and gives each job a log line and its
    metrics: the analysis worker below, and the webhook worker.

    A Redis outage is waited out, never a reason to quit. RQ's own wait for the next job already
    retries its connection (1 s, doubling to ``max_connection_wait_time``, each retry logged);
    but RQ quits on a connection error raised anywhere else in its loop (a state update, a
    heartbeat, the suspension check, a job's bookkeeping), so those calls fail softly here and
    the wait for the next job does the waiting. Ctrl-C and SIGTERM stop it as before.
    """

    settings: Settings | None = None
    max_connection_wait_time = 30.0
    _redis_lost: bool = False

    def _lost(self, what: str, exc: RedisConnectionError) -> None:
        if not self._redis_lost:
            self._redis_lost = True
            log.error("Redis cannot be reached (%s: %s); waiting for it to come back", what, exc)

    def set_state(self, state: str, pipeline: Any = None) -> None:
        try:
            super().set_state(state, pipeline)
        except RedisConnectionError as exc:  # RQ keeps the state locally too
            self._lost("saving the worker state", exc)

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        try:
            super().heartbeat(timeout, pipeline)
        except RedisConnectionError as exc:  # nothing to keep alive while Redis is away
            self._lost("heartbeat", exc)
            return
        if self._redis_lost and pipeline is None:
            self._redis_lost = False
            log.info("Redis is back; working the queue again")

    def check_for_suspension(self, burst: bool) -> None:
        try:
            super().check_for_suspension(burst)
        except RedisConnectionError as exc:  # the wait for the next job waits for Redis
            self._lost("checking for suspension", exc)

    def run_maintenance_tasks(self) -> None:
        try:
            super().run_maintenance_tasks()  # type: ignore[no-untyped-call]
        except RedisConnectionError as exc:  # the next sweep tries again
            self._lost("sweeping the job registries", exc)

    def register_death(self) -> None:
        try:
            super().register_death()  # type: ignore[no-untyped-call]
        except RedisConnectionError:  # stopping while Redis is away: the entry expires
            log.warning("Redis cannot be reached; the worker stops without unregistering")

    def unsubscribe(self) -> None:
        try:
            super().unsubscribe()  # type: ignore[no-untyped-call]
        except RedisConnectionError:
            if self.pubsub_thread is not None:
                self.pubsub_thread.stop()
                self.pubsub_thread.join(timeout=1)

    def execute_job(self, job: Job, queue: Queue) -> Any:
        started = time.monotonic()
        try:
            with bind(job_id=job.id), job_metrics.running(job):
                return super().execute_job(job, queue)
        except RedisConnectionError as exc:
            # The job's outcome could not be recorded: once its heartbeat lapses the registry
            # sweep retries it (jobs are idempotent), or, if Redis came back empty, the sweep
            # re-queues its call.
            self._lost(f"recording job {job.id}", exc)
            return None
        finally:
            self._finished(job, time.monotonic() - started)

    def _finished(self, job: Job, seconds: float) -> None:
        """The job's log line (job id, function, the id it works on, outcome) and metrics."""
        try:
            outcome = _outcome(job)
            function = job_metrics.function_of(job)
            subject = job.args[0] if job.args and isinstance(job.args[0], str | int) else None
            log.info(
                "job %s %s(%s) %s in %.1f s",
                job.id,
                function,
                subject or "",
                outcome,
                seconds,
                extra={
                    "job_id": job.id,
                    "function": function,
                    "subject": subject,
                    "outcome": outcome,
                    "duration_s": round(seconds, 3),
                },
            )
            if self.settings is not None:
                job_metrics.record(self.settings, job, outcome, seconds)
        except Exception:  # a job's bookkeeping never stops the worker
            log.exception("logging or measuring job %s failed", job.id)


class WarmWorker(ObservedWorker):
    heartbeat_s: int = 60

    def run_maintenance_tasks(self) -> None:
        """RQ's registry clean-up (which retries abandoned jobs), then re-queue lost calls."""
        super().run_maintenance_tasks()
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
    clean_spool(audio_store(settings))  # copies left by a worker that was killed
    wait_for_redis(settings)
    requeued = requeue_orphans(settings)
    if requeued:
        log.info("re-queued %d call(s) that had no job", len(requeued))
    build_worker(settings, heartbeat_s=heartbeat_s).work(burst=burst, with_scheduler=False)
