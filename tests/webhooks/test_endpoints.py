"""Registering webhook endpoints over HTTP: validation, secrets shown once, rotation, listing,
deletion, and who may do it."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from speechqa.apikeys import Scope
from tests.support import key_for

EVENTS = ["call.analyzed", "call.failed"]


def register(client, headers, **body):
    return client.post("/v1/webhooks", headers=headers,
                       json={"url": "https://hooks.example.com/qa", "events": EVENTS, **body})  # fmt: skip


def test_register_list_get_and_delete(client, admin):
    r = register(client, admin, description="CRM sync")
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["url"] == "https://hooks.example.com/qa" and created["events"] == EVENTS
    assert created["description"] == "CRM sync" and created["created_by"].startswith("key:")
    assert created["secret"].startswith("whsec_")
    assert 24 <= len(base64.b64decode(created["secret"].removeprefix("whsec_"))) <= 32
    assert created["previous_secret_expires_at"] is None

    other = register(client, admin, url="http://127.0.0.1:9/x", events=["review.disputed"]).json()
    assert other["secret"] != created["secret"]
    listed = client.get("/v1/webhooks", headers=admin).json()
    assert [w["id"] for w in listed] == [created["id"], other["id"]]
    assert all("secret" not in w for w in listed)  # shown once only
    one = client.get(f"/v1/webhooks/{created['id']}", headers=admin)
    assert one.status_code == 200 and "secret" not in one.json()

    assert client.delete(f"/v1/webhooks/{created['id']}", headers=admin).status_code == 204
    assert client.get(f"/v1/webhooks/{created['id']}", headers=admin).status_code == 404
    assert [w["id"] for w in client.get("/v1/webhooks", headers=admin).json()] == [other["id"]]
    assert client.delete(f"/v1/webhooks/{created['id']}", headers=admin).status_code == 404


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            {"events": ["call.analyzed", "call.exploded", "agent.hired"]},
            "'agent.hired', 'call.exploded'",
        ),
        ({"events": []}, "name at least one event"),
        ({"url": "ftp://files.example.com/in"}, "only http and https"),
        ({"url": "hooks.example.com/qa"}, "only http and https"),
        ({"url": "https:///no-host"}, "names no host"),
        ({"url": "https://example.com:99999/"}, "cannot be parsed"),
        ({"url": "https://exa mple.com/"}, "spaces or control characters"),
        ({"url": ""}, "http or https URL"),
        ({"description": "bad\x00byte"}, "control character U+0000"),
    ],
)
def test_invalid_registrations_are_422_naming_the_problem(client, admin, body, problem):
    r = register(client, admin, **body)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_input" and problem in error["message"]


def test_every_problem_is_reported_at_once(client, admin):
    r = register(client, admin, url="gopher://x", events=["call.analysed"])
    details = r.json()["error"]["details"]
    assert [d["field"] for d in details] == ["url", "events"]
    assert details[1]["unknown"] == ["call.analysed"] and "call.analyzed" in details[1]["allowed"]


def test_rotating_the_secret_keeps_the_old_one_for_a_day(client, admin):
    created = register(client, admin).json()
    r = client.post(f"/v1/webhooks/{created['id']}/rotate-secret", headers=admin)
    assert r.status_code == 200, r.text
    rotated = r.json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    expires = datetime.fromisoformat(rotated["previous_secret_expires_at"])
    expected = datetime.now(UTC) + timedelta(hours=24)
    assert abs((expires - expected).total_seconds()) < 60
    shown = client.get(f"/v1/webhooks/{created['id']}", headers=admin).json()
    assert shown["previous_secret_expires_at"] == rotated["previous_secret_expires_at"]


def test_unknown_ids_are_404(client, admin):
    for method, path in (("get", "/v1/webhooks/999"), ("delete", "/v1/webhooks/999"),
                         ("post", "/v1/webhooks/999/rotate-secret"),
                         ("get", "/v1/webhooks/999/deliveries"),
                         ("post", "/v1/webhooks/deliveries/999/resend")):  # fmt: skip
        r = client.request(method, path, headers=admin)
        assert r.status_code == 404, (method, path, r.text)
        assert r.json()["error"]["code"] == "not_found"


def test_only_admins_manage_webhooks(client, settings, admin):
    created = register(client, admin).json()
    for scope in (Scope.INGEST, Scope.REVIEW, Scope.LEAD):
        headers = key_for(settings, scope)
        assert register(client, headers).status_code == 403
        assert client.get("/v1/webhooks", headers=headers).status_code == 403
        assert (
            client.get(f"/v1/webhooks/{created['id']}/deliveries", headers=headers).status_code
            == 403
        )
    assert client.get("/v1/webhooks").status_code == 401
