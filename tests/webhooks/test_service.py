"""Webhooks end to end on real processes: ``speechqa serve`` (API, analysis worker, webhook
worker, embedded Redis) analyses a sample call and tells a receiver, with a signed
``call.analyzed`` delivery."""

from __future__ import annotations

import json

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.support import EXAMPLES, run_cli, wait_for, webhook_signature

pytestmark = pytest.mark.slow  # it runs the speech model on a call


def test_serve_delivers_a_signed_call_analyzed(service, receiver):
    base, env = service
    admin = run_cli("apikey", "create", "--scope", "admin", env=env).split()[-1]
    http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin}"}, timeout=60)
    hook = http.post("/v1/webhooks", json={"url": receiver.url,
                                           "events": ["call.analyzed", "call.failed"]})  # fmt: skip
    assert hook.status_code == 201, hook.text
    secret = hook.json()["secret"]

    path = EXAMPLES / "billing_refund.wav"
    channels = json.loads(path.with_suffix(".json").read_text())["channels"]
    meta = {"agent_id": "ann", "external_id": "pbx-42", "channels": channels}
    r = http.post("/v1/calls", files={"audio": (path.name, path.read_bytes(), "audio/wav")},
                  data={"metadata": json.dumps(meta)})  # fmt: skip
    assert r.status_code == 202, r.text
    call_id = r.json()["id"]

    wait_for(lambda: receiver.requests, "no webhook delivery arrived")
    (request,) = receiver.requests
    assert request.headers["webhook-signature"] == webhook_signature(
        secret, request.headers, request.body
    )
    body = Webhook(secret).verify(request.body, request.headers)
    assert body["type"] == "call.analyzed"
    data = body["data"]
    assert (data["call_id"], data["external_id"], data["agent_id"], data["status"]) == (
        call_id, "pbx-42", "ann", "done")  # fmt: skip
    assert data["status_url"] == f"/v1/calls/{call_id}/status"
    assert data["url"] == f"/v1/calls/{call_id}"
    doc = http.get(data["url"]).json()
    assert doc["status"] == "done" and data["score"] == doc["score"]["value"]
    assert data["critical_fail"] == doc["score"]["critical_fail"]

    log = http.get(f"/v1/webhooks/{hook.json()['id']}/deliveries").json()["deliveries"]
    assert [(d["event"], d["status"], d["message_id"]) for d in log] == [
        ("call.analyzed", "succeeded", request.headers["webhook-id"])]  # fmt: skip
