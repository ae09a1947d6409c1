"""The analysis queue: enqueueing a call's analysis, once, and finding calls whose job was lost.

:class:`RQJobs` is :class:`speechqa.jobs.JobQueue` on RQ, the queue the API and the web pages are
handed by the app factory.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis
from redis.exceptions import RedisError
from rq import Callback, Queue, Retry, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from speechqa.errors import NotFound, ServiceUnavailable
from speechqa.jobs import JobState, QueueState
from speechqa.settings import Settings

from . import redis_server

_LIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def job_id(call_id: str) -> str:
    return f"analyze-{call_id}"


def get_queue(settings: Settings, connection: Redis) -> Queue:
    return Queue(settings.queue_name, connection=connection)


def enqueue_analysis(settings: Settings, connection: Redis, call_id: str) -> Job:
    """Queue the analysis of a call unless a job for it is already queued or running."""
    from .jobs import analyze_call, on_analysis_failure

    try:
        existing = Job.fetch(job_id(call_id), connection=connection)
        if existing.get_status(refresh=True) in _LIVE:
            return existing
        existing.delete()
    except NoSuchJobError:
        pass
    return get_queue(settings, connection).enqueue(
        analyze_call,
        call_id,
        job_id=job_id(call_id),
        job_timeout=settings.job_timeout_s,
        retry=Retry(max=settings.job_retries) if settings.job_retries else None,
        on_failure=Callback(on_analysis_failure),
        result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600,
        description=f"analyze call {call_id}",
    )


def has_live_job(connection: Redis, call_id: str) -> bool:
    try:
        job = Job.fetch(job_id(call_id), connection=connection)
    except NoSuchJobError:
        return False
    return job.get_status(refresh=True) in _LIVE


def enqueue_rescore(settings: Settings, connection: Redis, name: str, version: int) -> Job:
    """Queue a re-scoring of ruleset ``name`` at ``version`` over its stored transcripts."""
    from .jobs import rescore_ruleset

    return get_queue(settings, connection).enqueue(
        rescore_ruleset,
        name,
        version,
        job_timeout=settings.job_timeout_s,
        result_ttl=7 * 24 * 3600,
        failure_ttl=7 * 24 * 3600,
        description=f"rescore calls with ruleset {name} v{version}",
    )


def job_status(connection: Redis, job_id: str) -> JobState:
    """A background job's status, progress, result and error (NotFound for an unknown id)."""
    try:
        job = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        raise NotFound(f"No job with id {job_id!r}.") from None
    status = job.get_status(refresh=True)
    error = None
    latest = job.latest_result() if job.is_failed else None
    if latest is not None and latest.exc_string:
        error = latest.exc_string.strip().splitlines()[-1]
    return JobState(
        id=job.id,
        status=str(status.value if status is not None else "unknown"),
        progress=job.meta.get("progress"),
        result=job.return_value() if status is not None and status.value == "finished" else None,
        error=error,
    )


def worker_count(settings: Settings, connection: Redis) -> int:
    """Live workers of the analysis queue: registered, and their key not yet expired (a killed
    worker's key expires a heartbeat and a minute after its last beat, even when no other worker
    is left to clean the registry)."""
    return len(Worker.all(queue=get_queue(settings, connection)))


def monitored_queues(settings: Settings) -> list[str]:
    """The RQ queues whose depth is reported: analysis, and webhook deliveries."""
    return [settings.queue_name, f"{settings.queue_name}-webhooks"]


@contextmanager
def _reachable() -> Iterator[None]:
    try:
        yield
    except RedisError as exc:
        raise ServiceUnavailable("The queue (Redis) is unavailable; try again shortly.") from exc


class RQJobs:
    """:class:`speechqa.jobs.JobQueue` on RQ: the queues of ``settings`` on one Redis
    connection."""

    def __init__(self, settings: Settings, connection: Redis) -> None:
        self.settings = settings
        self.connection = connection

    def enqueue_analysis(self, call_id: str) -> str:
        with _reachable():
            return str(enqueue_analysis(self.settings, self.connection, call_id).id)

    def enqueue_rescore(self, name: str, version: int) -> str:
        with _reachable():
            return str(enqueue_rescore(self.settings, self.connection, name, version).id)

    def job(self, job_id: str) -> JobState:
        with _reachable():
            return job_status(self.connection, job_id)

    def ping(self) -> None:
        redis_server.ping(self.settings)

    def worker_count(self) -> int:
        with _reachable():
            return worker_count(self.settings, self.connection)

    def queues(self) -> list[QueueState]:
        with _reachable():
            found = []
            for name in monitored_queues(self.settings):
                queue = Queue(name, connection=self.connection)
                found.append(
                    QueueState(
                        name=name,
                        waiting=queue.count,
                        failed=queue.failed_job_registry.count,
                        workers=len(Worker.all(queue=queue)),
                    )
                )
            return found

    def close(self) -> None:
        self.connection.close()
