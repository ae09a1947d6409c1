"""``/metrics`` and the request log: route templates, calls and queues from the database and
Redis, request ids, and JSON log lines."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from speechqa.logs import bind, configure_logging
from speechqa.storage.database import session_scope
from tests.support import (
    Samples,
    metric_samples,
    metric_value,
    reference_transcript,
    store_call,
    submit,
)


def scrape(client) -> Samples:
    r = client.get("/metrics")  # no API key
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return metric_samples(r.text)


def test_requests_are_counted_by_route_template_method_and_status(client, admin):
    before = scrape(client)
    assert client.get("/v1/calls/no-such-call", headers=admin).status_code == 404
    assert client.get("/v1/calls/another-missing-one", headers=admin).status_code == 404
    assert client.get("/v1/calls/no-such-call").status_code == 401
    assert client.get("/no/such/route").status_code == 404
    after = scrape(client)

    def moved(**labels: str) -> float:
        name = "speechqa_http_requests_total"
        return metric_value(after, name, **labels) - metric_value(before, name, **labels)

    assert moved(method="GET", route="/v1/calls/{call_id}", status="404") == 2
    assert moved(method="GET", route="/v1/calls/{call_id}", status="401") == 1
    assert moved(method="GET", route="<unmatched>", status="404") == 1
    assert moved(method="GET", route="/metrics", status="200") == 1  # the first scrape
    assert not any("no-such-call" in str(labels) for _, labels in after)  # never a raw path
    latency = "speechqa_http_request_duration_seconds_count"
    assert (
        metric_value(after, latency, method="GET", route="/v1/calls/{call_id}")
        - metric_value(before, latency, method="GET", route="/v1/calls/{call_id}")
        == 3
    )


def test_calls_by_status_audio_and_queue_depth_come_from_the_database_and_redis(
    settings, client, admin
):
    before = scrape(client)
    assert metric_value(before, "speechqa_state_up", source="database") == 1
    assert metric_value(before, "speechqa_state_up", source="redis") == 1
    assert {"queued", "transcribing", "analyzing", "done", "failed"} <= {
        dict(labels)["status"] for name, labels in before if name == "speechqa_calls"
    }
    transcript = reference_transcript("billing_refund")
    with session_scope(settings) as session:
        store_call(session, transcript)  # analysed: done
    assert submit(client, admin).status_code == 202  # stored and queued
    after = scrape(client)

    def moved(name: str, **labels: str) -> float:
        return metric_value(after, name, **labels) - metric_value(before, name, **labels)

    assert moved("speechqa_calls", status="done") == 1
    assert moved("speechqa_calls", status="queued") == 1
    assert moved("speechqa_audio_analysed_seconds") == pytest.approx(transcript.duration_s)
    assert moved("speechqa_queue_jobs", queue=settings.queue_name) == 1
    assert metric_value(after, "speechqa_queue_jobs", queue=f"{settings.queue_name}-webhooks") == 0
    assert metric_value(after, "speechqa_queue_failed_jobs", queue=settings.queue_name) == 0
    assert metric_value(after, "speechqa_workers", queue=settings.queue_name) == 0


def test_metrics_need_no_key_and_stay_out_of_the_api_schema(client):
    assert client.get("/metrics").status_code == 200
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_each_request_logs_one_line_with_its_request_id(client, admin, caplog):
    caplog.set_level(logging.INFO, logger="api.requests")
    r = client.get("/v1/calls/no-such-call", headers={**admin, "X-Request-ID": "pbx-42.a"})
    assert r.headers["X-Request-ID"] == "pbx-42.a"
    (line,) = [rec for rec in caplog.records if rec.name == "api.requests"]
    assert (line.method, line.route, line.status) == ("GET", "/v1/calls/{call_id}", 404)
    assert line.request_id == "pbx-42.a" and "pbx-42.a" in line.getMessage()
    assert isinstance(line.key_id, int) and line.duration_ms >= 0

    caplog.clear()
    made = client.get("/healthz", headers={"X-Request-ID": "no spaces\tor tabs"})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"])  # a new one
    (line,) = [rec for rec in caplog.records if rec.name == "api.requests"]
    assert line.request_id == made.headers["X-Request-ID"] and line.key_id is None


def test_json_logs_are_one_object_per_line(settings, client, admin):
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(settings.model_copy(update={"log_format": "json"}))
    stream = io.StringIO()
    handler.setStream(stream)
    try:
        r = client.get("/v1/calls", headers={**admin, "X-Request-ID": "json-1"})
        assert r.status_code == 200
        with bind(job_id="job-1"):
            logging.getLogger("speechqa.somewhere").warning("inside a job")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    (request,) = [line for line in lines if line["logger"] == "api.requests"]
    assert request["request_id"] == "json-1" and request["route"] == "/v1/calls"
    assert request["status"] == 200 and request["level"] == "INFO" and "timestamp" in request
    (inside,) = [line for line in lines if line["message"] == "inside a job"]
    assert inside["job_id"] == "job-1" and inside["logger"] == "speechqa.somewhere"
