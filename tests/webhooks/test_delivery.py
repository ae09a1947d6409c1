"""Deliveries to a real HTTP receiver: signed by the Standard Webhooks spec, retried with
growing delays until they fail, resent, signed twice during a rotation, and never sent twice."""

from __future__ import annotations

import itertools
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
from speechqa_service.workers.redis_server import connect
from speechqa_service.workers.webhooks import deliver_webhook, dispatch_due, prune, webhook_queue
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from speechqa.settings import get_settings
from speechqa.storage.database import session_scope
from speechqa.storage.tables import WebhookDelivery, WebhookEndpoint, WebhookMessage, utcnow
from speechqa.webhooks import delivery
from tests.support import (
    EVENT_DATA,
    ROOT,
    deliver_webhooks,
    deliver_webhooks_until,
    delivery_log,
    emit_event,
    webhook_signature,
)


def register(client, admin, receiver, events=("call.analyzed",)):
    r = client.post(
        "/v1/webhooks", headers=admin, json={"url": receiver.url, "events": list(events)}
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_a_delivery_is_signed_by_the_spec_and_sent_once(client, admin, hooks, receiver):
    endpoint = register(client, admin, receiver)
    emit_event(hooks)
    assert deliver_webhooks(hooks) == 1
    (request,) = receiver.requests
    assert request.path == "/hooks" and request.headers["content-type"] == "application/json"
    headers = request.headers
    assert headers["webhook-id"].startswith("msg_")
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 10
    # Computed by hand, then by the spec's reference library as a receiver would.
    assert headers["webhook-signature"] == webhook_signature(
        endpoint["secret"], headers, request.body
    )
    body = Webhook(endpoint["secret"]).verify(request.body, headers)
    assert body["type"] == "call.analyzed" and body["data"] == EVENT_DATA
    assert body["timestamp"].endswith("Z")
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint["secret"]).verify(request.body.replace(b"87.5", b"99.5"), headers)

    (entry,) = delivery_log(client, admin, endpoint["id"])["deliveries"]
    assert entry["status"] == "succeeded" and entry["message_id"] == headers["webhook-id"]
    assert entry["event"] == "call.analyzed" and entry["last_status_code"] == 200
    (attempt,) = entry["attempts"]
    assert (
        attempt["status_code"] == 200 and attempt["error"] is None and attempt["duration_ms"] >= 0
    )

    # Idempotent: nothing is due any more, and a job for it again sends nothing.
    assert deliver_webhooks(hooks) == 0
    assert deliver_webhook(entry["id"]) == "already succeeded"
    assert len(receiver.requests) == 1


def test_a_failing_receiver_gets_growing_delays_until_failed_then_a_resend(
    client, admin, hooks, receiver
):
    receiver.status = 500
    endpoint = register(client, admin, receiver)
    emit_event(hooks)

    def finished() -> bool:
        return bool(
            delivery_log(client, admin, endpoint["id"])["deliveries"][0]["status"] != "pending"
        )

    deliver_webhooks_until(hooks, finished)
    (entry,) = delivery_log(client, admin, endpoint["id"])["deliveries"]
    assert (
        entry["status"] == "failed" and entry["round_attempts"] == hooks.webhook_max_attempts == 4
    )
    assert entry["last_status_code"] == 500 and "HTTP 500" in entry["last_error"]
    assert len(receiver.requests) == 4
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1  # one message, retried
    times = [a["at"] for a in entry["attempts"]]
    gaps = [(datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds()
            for a, b in itertools.pairwise(times)]  # fmt: skip
    # Each retry waits at least its doubled backoff (0.5, 1, 2 s); the actual gap adds however
    # long the busy test machine takes to poll, so growth is checked by the lower bounds, and the
    # first retry must not already wait the last one's delay.
    for n, gap in enumerate(gaps, start=1):
        assert gap >= hooks.webhook_backoff_s * 2 ** (n - 1) - 0.01, gaps
    assert gaps[0] < hooks.webhook_backoff_s * 4, gaps
    assert [a["number"] for a in entry["attempts"]] == [1, 2, 3, 4]

    # The receiver is fixed; an admin resends: a new round, the history kept.
    receiver.status = 204
    r = client.post(f"/v1/webhooks/deliveries/{entry['id']}/resend", headers=admin)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "pending" and r.json()["round_attempts"] == 0
    again = client.post(f"/v1/webhooks/deliveries/{entry['id']}/resend", headers=admin)
    assert again.status_code == 409 and again.json()["error"]["details"]["status"] == "pending"
    deliver_webhooks_until(hooks, finished)
    (entry,) = delivery_log(client, admin, endpoint["id"])["deliveries"]
    assert entry["status"] == "succeeded" and entry["round_attempts"] == 1
    assert [(a["number"], a["status_code"]) for a in entry["attempts"]] == [
        (1, 500), (2, 500), (3, 500), (4, 500), (1, 204)]  # fmt: skip
    assert len(receiver.requests) == 5


def test_during_a_rotation_both_secrets_sign(client, admin, hooks, receiver):
    endpoint = register(client, admin, receiver)
    old = endpoint["secret"]
    new = client.post(f"/v1/webhooks/{endpoint['id']}/rotate-secret", headers=admin).json()[
        "secret"
    ]
    emit_event(hooks)
    deliver_webhooks(hooks)
    (request,) = receiver.requests
    signatures = request.headers["webhook-signature"].split(" ")
    assert signatures == [webhook_signature(new, request.headers, request.body),
                          webhook_signature(old, request.headers, request.body)]  # fmt: skip
    for secret in (old, new):  # a receiver with either secret accepts it
        Webhook(secret).verify(request.body, request.headers)

    # Once the grace period is over, only the new secret signs.
    with session_scope(hooks) as session:
        row = session.get(WebhookEndpoint, endpoint["id"])
        row.previous_secret_expires_at = utcnow() - timedelta(seconds=1)
    emit_event(hooks)
    deliver_webhooks(hooks)
    latest = receiver.requests[-1]
    assert latest.headers["webhook-signature"] == webhook_signature(
        new, latest.headers, latest.body
    )
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(latest.body, latest.headers)


def test_a_slow_receiver_times_out_and_is_retried(client, admin, hooks, receiver, monkeypatch):
    monkeypatch.setenv("SPEECHQA_WEBHOOK_TIMEOUT_S", "0.3")
    get_settings.cache_clear()
    settings = get_settings()
    receiver.delay_s = 1.0
    endpoint = register(client, admin, receiver)
    emit_event(settings)
    deliver_webhooks(settings)
    (entry,) = delivery_log(client, admin, endpoint["id"])["deliveries"]
    assert entry["status"] == "pending" and entry["round_attempts"] == 1
    (attempt,) = entry["attempts"]
    assert attempt["status_code"] is None and "No answer within 0.3 s" in attempt["error"]
    assert attempt["duration_ms"] < 900


def test_a_lost_job_is_dispatched_again_after_the_claim_timeout(
    client, admin, hooks, receiver, monkeypatch
):
    monkeypatch.setenv("SPEECHQA_WEBHOOK_CLAIM_TIMEOUT_S", "0.5")
    get_settings.cache_clear()
    settings = get_settings()
    register(client, admin, receiver)
    emit_event(settings)
    connection = connect(settings)
    assert dispatch_due(settings, connection) == 1
    webhook_queue(settings, connection).empty()  # the job is lost (Redis lost it, say)
    assert deliver_webhooks(settings) == 0  # still claimed: no one queues it twice
    time.sleep(0.6)
    assert deliver_webhooks(settings) == 1
    assert len(receiver.requests) == 1


def test_concurrent_dispatchers_and_jobs_never_send_twice(client, admin, hooks, receiver):
    register(client, admin, receiver)
    emit_event(hooks)
    with session_scope(hooks) as first, session_scope(hooks) as second:
        claimed = delivery.claim_due(first, lease_s=60)
        first.commit()
        assert len(claimed) == 1 and delivery.claim_due(second, lease_s=60) == []
    # Two jobs for the one attempt (queued twice): the second finds it taken or done.
    (delivery_id,) = claimed
    assert deliver_webhook(delivery_id) == "succeeded"
    assert deliver_webhook(delivery_id) == "already succeeded"
    assert len(receiver.requests) == 1


def test_deleting_an_endpoint_stops_its_pending_deliveries(client, admin, hooks, receiver):
    endpoint = register(client, admin, receiver)
    emit_event(hooks)
    assert client.delete(f"/v1/webhooks/{endpoint['id']}", headers=admin).status_code == 204
    assert deliver_webhooks(hooks) == 0
    assert receiver.requests == []
    with session_scope(hooks) as session:
        (row,) = session.scalars(select(WebhookDelivery))
        assert row.status == "failed" and row.last_error == "The endpoint was deleted."
    r = client.post(f"/v1/webhooks/deliveries/{row.id}/resend", headers=admin)
    assert r.status_code == 404


def test_the_delivery_log_pages_newest_first(client, admin, hooks, receiver):
    endpoint = register(client, admin, receiver, events=("call.analyzed", "call.failed"))
    for i in range(5):
        emit_event(hooks, "call.failed" if i % 2 else "call.analyzed", {"n": i})
    first = delivery_log(client, admin, endpoint["id"], limit=2)
    assert [d["payload"]["data"]["n"] for d in first["deliveries"]] == [4, 3]
    rest = delivery_log(client, admin, endpoint["id"], limit=10, cursor=first["next_cursor"])
    assert [d["payload"]["data"]["n"] for d in rest["deliveries"]] == [2, 1, 0]
    assert rest["next_cursor"] is None
    deliver_webhooks(hooks)
    assert len(delivery_log(client, admin, endpoint["id"], status="succeeded")["deliveries"]) == 5
    assert delivery_log(client, admin, endpoint["id"], status="pending")["deliveries"] == []
    bad = client.get(f"/v1/webhooks/{endpoint['id']}/deliveries", headers=admin,
                     params={"cursor": "nonsense"})  # fmt: skip
    assert bad.status_code == 422


def test_old_messages_are_pruned_with_their_log(client, admin, hooks, receiver):
    endpoint = register(client, admin, receiver)
    emit_event(hooks)
    deliver_webhooks(hooks)
    emit_event(hooks)  # still pending: kept whatever its age
    assert prune(hooks) == 0
    with session_scope(hooks) as session:
        for message in session.scalars(select(WebhookMessage)):
            message.created_at = utcnow() - timedelta(days=2)
    assert prune(hooks.model_copy(update={"webhook_retention_days": 1})) == 1
    (left,) = delivery_log(client, admin, endpoint["id"])["deliveries"]
    assert left["status"] == "pending" and left["attempts"] == []


def test_a_delivery_job_has_its_log_line_and_job_metrics(client, admin, hooks, receiver, caplog):
    from prometheus_client import REGISTRY

    caplog.set_level(logging.INFO, logger="speechqa_service.workers.worker")
    labels = {"function": "deliver_webhook"}
    before = REGISTRY.get_sample_value("speechqa_job_duration_seconds_count", labels) or 0.0
    register(client, admin, receiver)
    emit_event(hooks)
    assert deliver_webhooks(hooks) == 1
    after = REGISTRY.get_sample_value("speechqa_job_duration_seconds_count", labels)
    assert after == before + 1
    (line,) = [r for r in caplog.records if getattr(r, "function", None) == "deliver_webhook"]
    assert line.outcome == "finished" and line.job_id in line.getMessage()


def test_an_attempt_cut_by_a_killed_worker_stays_in_the_log_as_interrupted(
    client, admin, hooks, receiver, monkeypatch
):
    monkeypatch.setenv("SPEECHQA_WEBHOOK_CLAIM_TIMEOUT_S", "0.5")  # due again 2.5 s after
    get_settings.cache_clear()
    settings = get_settings()
    endpoint = register(client, admin, receiver)
    emit_event(settings)
    receiver.delay_s = 5
    worker = subprocess.Popen(
        [sys.executable, "-m", "speechqa_service.cli.main", "worker", "--queue", "webhooks"],
        cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not receiver.requests:
            assert worker.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        (entry,) = delivery_log(client, admin, endpoint["id"])["deliveries"]
        (running,) = entry["attempts"]
        assert (running["number"], running["error"]) == (1, "In progress.")
    finally:
        worker.send_signal(signal.SIGKILL)  # mid-attempt: the answer is never recorded
        worker.wait()
    time.sleep(2.6)  # its claim runs out
    (entry,) = delivery_log(client, admin, endpoint["id"])["deliveries"]
    (cut,) = entry["attempts"]
    assert cut["number"] == 1 and cut["status_code"] is None
    assert cut["error"] == delivery.INTERRUPTED

    receiver.delay_s = 0
    assert deliver_webhooks(settings) == 1
    (entry,) = delivery_log(client, admin, endpoint["id"])["deliveries"]
    assert entry["status"] == "succeeded" and entry["round_attempts"] == 2
    assert [(a["number"], a["status_code"]) for a in entry["attempts"]] == [(1, None), (2, 200)]
    assert len(receiver.requests) == 2  # the cut attempt had reached the receiver
