"""Job metrics and job log lines, recorded by the worker that runs the job (in this process)."""

from __future__ import annotations

import logging
import socket

import httpx
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from rq import Retry
from speechqa_service.workers import metrics
from speechqa_service.workers.jobs import rescore_ruleset
from speechqa_service.workers.queue import enqueue_analysis, enqueue_rescore, get_queue
from speechqa_service.workers.redis_server import connect

from speechqa.storage.database import session_scope
from tests.support import reference_transcript, store_call, work


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_job_records_its_duration_and_a_failure(settings, caplog):
    caplog.set_level(logging.INFO, logger="speechqa_service.workers.worker")
    failing = {"function": "rescore_ruleset"}
    count, failures = (
        sample("speechqa_job_duration_seconds_count", **failing),
        sample("speechqa_job_failures_total", **failing),
    )
    job = enqueue_rescore(settings, connect(settings), "no-such-ruleset", 1)
    work(settings)
    assert sample("speechqa_job_duration_seconds_count", **failing) == count + 1
    assert sample("speechqa_job_failures_total", **failing) == failures + 1
    assert sample("speechqa_jobs_running", **failing) == 0
    (line,) = [r for r in caplog.records if getattr(r, "job_id", None) == job.id and
               hasattr(r, "outcome")]  # fmt: skip
    assert (line.function, line.subject, line.outcome) == (
        "rescore_ruleset",
        "no-such-ruleset",
        "failed",
    )
    assert line.duration_s >= 0 and job.id in line.getMessage()


def test_a_run_that_will_be_retried_counts_as_a_failure_too(settings, caplog):
    caplog.set_level(logging.INFO, logger="speechqa_service.workers.worker")
    failures = sample("speechqa_job_failures_total", function="rescore_ruleset")
    get_queue(settings, connect(settings)).enqueue(rescore_ruleset, "gone", 1, retry=Retry(max=1))
    work(settings)
    assert [r.outcome for r in caplog.records if hasattr(r, "outcome")] == ["retrying", "failed"]
    assert sample("speechqa_job_failures_total", function="rescore_ruleset") == failures + 2


def test_a_job_that_succeeds_is_timed_and_not_counted_as_failed(settings, caplog):
    caplog.set_level(logging.INFO, logger="speechqa_service.workers.worker")
    with session_scope(settings) as session:
        call_id = store_call(session, reference_transcript("address_change"))  # already analysed
    labels = {"function": "analyze_call"}
    count, failures = (
        sample("speechqa_job_duration_seconds_count", **labels),
        sample("speechqa_job_failures_total", **labels),
    )
    audio = sample("speechqa_audio_transcribed_seconds_total")
    job = enqueue_analysis(settings, connect(settings), call_id)
    work(settings)
    assert job.get_status(refresh=True) == "finished"
    assert sample("speechqa_job_duration_seconds_count", **labels) == count + 1
    assert sample("speechqa_job_failures_total", **labels) == failures
    assert sample("speechqa_audio_transcribed_seconds_total") == audio  # nothing transcribed again
    (line,) = [r for r in caplog.records if hasattr(r, "outcome")]
    assert (line.function, line.subject, line.outcome) == ("analyze_call", call_id, "finished")


def test_a_worker_serves_its_metrics_on_a_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = metrics.expose(port)
    assert server is not None
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    finally:
        server.shutdown()
        server.server_close()
    names = {f.name for f in text_string_to_metric_families(text)}
    assert {"speechqa_job_duration_seconds", "speechqa_job_failures"} <= names
    assert metrics.expose(None) is None
