"""Prometheus metrics of the worker: how long jobs take, how many fail, how much audio is done.

They are recorded in the worker process. Under ``speechqa serve`` every process writes them to
the folder named by ``PROMETHEUS_MULTIPROC_DIR`` and the API's ``/metrics`` adds them up; a
worker on a machine of its own serves them on ``SPEECHQA_WORKER_METRICS_PORT``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from wsgiref.simple_server import WSGIServer

from prometheus_client import Counter, Gauge, Histogram, multiprocess, start_http_server, values
from rq.job import Job

from speechqa.calls import repository
from speechqa.errors import NotFound
from speechqa.settings import Settings
from speechqa.storage.database import session_scope

log = logging.getLogger(__name__)

JOB_DURATION = Histogram(
    "speechqa_job_duration_seconds",
    "Time a worker spent on a job, by job function (successful or not).",
    ["function"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 10800),
)
JOB_FAILURES = Counter(
    "speechqa_job_failures",
    "Job runs that raised an error, by job function (including runs that will be retried).",
    ["function"],
)
JOBS_RUNNING = Gauge(
    "speechqa_jobs_running",
    "Jobs being worked on now, by job function.",
    ["function"],
    multiprocess_mode="livesum",
)
AUDIO_TRANSCRIBED = Counter(
    "speechqa_audio_transcribed_seconds",
    "Seconds of call audio this worker transcribed and analysed.",
)


def multiprocess_mode() -> bool:
    """Whether prometheus_client writes to PROMETHEUS_MULTIPROC_DIR in this process (it decides
    when it is first imported, from that variable)."""
    return values.ValueClass is not values.MutexValue


def function_of(job: Job) -> str:
    """The job function's name without its module: ``analyze_call``."""
    return str(job.func_name).rsplit(".", 1)[-1]


@contextmanager
def running(job: Job) -> Iterator[None]:
    gauge = JOBS_RUNNING.labels(function_of(job))
    gauge.inc()
    try:
        yield
    finally:
        gauge.dec()


def record(settings: Settings, job: Job, outcome: str, seconds: float) -> None:
    """Record a finished job run: ``outcome`` is finished, failed or retrying."""
    function = function_of(job)
    JOB_DURATION.labels(function).observe(seconds)
    if outcome != "finished":
        JOB_FAILURES.labels(function).inc()
    elif function == "analyze_call" and job.return_value() == "done":
        AUDIO_TRANSCRIBED.inc(_duration_s(settings, str(job.args[0])))


def _duration_s(settings: Settings, call_id: str) -> float:
    try:
        with session_scope(settings) as session:
            return repository.get_call(session, call_id).duration_s or 0.0
    except NotFound:  # deleted meanwhile
        return 0.0


def expose(port: int | None) -> WSGIServer | None:
    """Serve this process's metrics on ``port`` of every interface (None: do not); return the
    server, which runs in a daemon thread."""
    if port is None:
        return None
    if multiprocess_mode():
        log.info("worker metrics are served by the API's /metrics (multiprocess mode)")
        return None
    server, _thread = start_http_server(port)
    log.info("worker metrics on port %d at /metrics", port)
    return server


def process_exited(pid: int) -> None:
    """Drop a dead process's live gauges from the multiprocess folder."""
    if multiprocess_mode():
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
