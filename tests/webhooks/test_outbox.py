"""The outbox: an event is written in the transaction of its change, for the endpoints that
want it, and disappears with that transaction when it rolls back; and the places that emit."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select

from speechqa.storage.database import session_scope
from speechqa.storage.tables import WebhookDelivery, WebhookEndpoint, WebhookMessage
from speechqa.webhooks import endpoints, outbox
from tests.audiofiles import write_audio
from tests.support import register_webhook, submit, work


def counts(settings) -> tuple[int, int]:
    with session_scope(settings) as session:
        messages = session.scalar(select(func.count()).select_from(WebhookMessage))
        deliveries = session.scalar(select(func.count()).select_from(WebhookDelivery))
    return messages or 0, deliveries or 0


def deliveries_of(settings, event):
    with session_scope(settings) as session:
        query = (select(WebhookDelivery.endpoint_id, WebhookMessage.payload)
                 .join(WebhookMessage, WebhookMessage.id == WebhookDelivery.message_id)
                 .where(WebhookMessage.event == event).order_by(WebhookDelivery.endpoint_id))  # fmt: skip
        return [tuple(row) for row in session.execute(query)]


def test_nothing_is_written_when_no_endpoint_wants_the_event(settings):
    register_webhook(settings, ["review.submitted"])
    with session_scope(settings) as session:
        outbox.emit(session, "call.analyzed", {"call_id": "c1"})
    assert counts(settings) == (0, 0)


def test_one_message_and_a_delivery_per_subscribed_active_endpoint(settings):
    both = register_webhook(settings, ["call.analyzed", "call.failed"])
    analyzed = register_webhook(settings, ["call.analyzed"])
    register_webhook(settings, ["call.failed"])
    gone = register_webhook(settings, ["call.analyzed"])
    with session_scope(settings) as session:
        endpoints.delete(session, gone)
    with session_scope(settings) as session:
        outbox.emit(session, "call.analyzed", {"call_id": "c1", "score": 90.0})
    assert counts(settings) == (1, 2)
    rows = deliveries_of(settings, "call.analyzed")
    assert [r[0] for r in rows] == [both, analyzed]
    payload = rows[0][1]
    assert payload["type"] == "call.analyzed" and payload["data"] == {
        "call_id": "c1",
        "score": 90.0,
    }
    assert payload["timestamp"].endswith("Z")
    with session_scope(settings) as session:
        (message,) = session.scalars(select(WebhookMessage))
        assert message.id.startswith("msg_") and len(message.id) == 30


def test_the_event_rolls_back_with_its_transaction(settings):
    register_webhook(settings, ["review.disputed"])

    class Boom(Exception):
        pass

    with pytest.raises(Boom), session_scope(settings) as session:
        outbox.emit(session, "review.disputed", {"review_id": 1})
        assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
        raise Boom
    assert counts(settings) == (0, 0)


def test_an_unknown_event_is_a_programming_error(settings):
    with pytest.raises(ValueError, match="not a webhook event"), session_scope(settings) as session:
        outbox.emit(session, "call.deleted", {})


def test_data_with_times_is_sent_as_iso_text(settings):
    from datetime import UTC, datetime

    register_webhook(settings, ["coaching.session.created"])
    with session_scope(settings) as session:
        outbox.emit(session, "coaching.session.created",
                    {"held_at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC)})  # fmt: skip
    ((_, payload),) = deliveries_of(settings, "coaching.session.created")
    assert payload["data"]["held_at"] == "2026-01-02T03:04:00Z"


def test_a_call_that_fails_announces_call_failed_with_the_reason(client, settings, admin, tmp_path):
    register_webhook(settings, ["call.failed", "call.analyzed"])
    path = write_audio(tmp_path / "silence.wav", np.zeros((2, 8000 * 5)), 8000,
                       codec="pcm_s16le", fmt="wav")  # fmt: skip
    r = submit(client, admin, path=path, meta={"agent_id": "a-9", "external_id": "silent"})
    assert r.status_code == 202, r.text
    work(settings)
    ((_, payload),) = deliveries_of(settings, "call.failed")
    call_id = r.json()["id"]
    assert payload["data"] == {
        "call_id": call_id, "external_id": "silent", "agent_id": "a-9", "team": None,
        "status": "failed", "status_url": f"/v1/calls/{call_id}/status",
        "url": f"/v1/calls/{call_id}", "reason": payload["data"]["reason"],
    }  # fmt: skip
    assert "No speech" in payload["data"]["reason"]
    assert deliveries_of(settings, "call.analyzed") == []


def test_reviews_announce_submission_and_dispute_but_not_calibration_or_self_reviews(
    world, settings
):
    client, call, keys = world["client"], world["call"], world["keys"]
    register_webhook(settings, ["review.submitted", "review.disputed"])
    # A self-review and a calibration review are submitted: neither is announced.
    own = client.post(f"/v1/calls/{call}/reviews", headers=keys["ann"]).json()
    assert client.post(f"/v1/reviews/{own['id']}/submit", headers=keys["ann"]).status_code == 200
    body = {"name": "cal", "calls": [call], "reviewers": ["rita", "rob"]}
    sid = client.post("/v1/calibrations", headers=keys["lee"], json=body).json()["id"]
    cal = client.post(f"/v1/calibrations/{sid}/calls/{call}/reviews", headers=keys["rob"]).json()
    assert client.post(f"/v1/reviews/{cal['id']}/submit", headers=keys["rob"]).status_code == 200
    assert counts(settings) == (0, 0)

    review = client.post(f"/v1/calls/{call}/reviews", headers=keys["rita"]).json()
    url = f"/v1/reviews/{review['id']}"
    client.put(f"{url}/items/2.1", headers=keys["rita"], json={"decision": "fail", "reason": "No"})
    assert client.post(f"{url}/submit", headers=keys["rita"]).status_code == 200
    ((_, submitted),) = deliveries_of(settings, "review.submitted")
    data = submitted["data"]
    assert (data["review_id"], data["call_id"], data["agent_id"], data["reviewer"]) == (
        review["id"], call, "ann", "rita")  # fmt: skip
    assert (data["score"], data["automatic_score"], data["status"]) == (75.0, 100.0, "submitted")
    assert [(i["key"], i["passed"], i["automatic_passed"]) for i in data["items"]] == [
        ("2.1", False, True)
    ]
    disputed = client.post(f"{url}/dispute", headers=keys["ann"],
                           json={"items": ["2.1"], "comment": "I said goodbye"})  # fmt: skip
    assert disputed.status_code == 200, disputed.text
    ((_, event),) = deliveries_of(settings, "review.disputed")
    assert event["data"]["status"] == "disputed" and event["data"]["comment"] == "I said goodbye"
    assert [i["key"] for i in event["data"]["items"]] == ["2.1"]
    assert counts(settings) == (2, 2)


def test_registering_keeps_the_fixed_order_of_events(settings):
    endpoint = register_webhook(settings, ["call.failed", "call.analyzed", "call.failed"])
    with session_scope(settings) as session:
        row = session.get(WebhookEndpoint, endpoint)
        assert row is not None and row.events == ["call.analyzed", "call.failed"]
