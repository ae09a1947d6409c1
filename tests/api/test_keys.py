"""API keys as an admin manages them, and what wrong or old keys get."""

from __future__ import annotations

from datetime import timedelta

from speechqa.apikeys import Scope, create_key
from speechqa.storage.database import session_scope
from speechqa.storage.tables import ApiKey, utcnow
from tests.support import key_for


def test_create_list_and_revoke_over_http(client, admin):
    r = client.post("/v1/apikeys", headers=admin,
                    json={"scopes": ["ingest"], "name": "pbx", "expires_in_days": 30})  # fmt: skip
    assert r.status_code == 201, r.text
    created = r.json()
    pbx = {"Authorization": f"Bearer {created['key']}"}
    assert created["scopes"] == ["ingest"] and created["active"] is True
    assert created["expires_at"] is not None and created["key"].startswith(created["prefix"])
    assert client.get("/v1/calls/nope/status", headers=pbx).status_code == 404  # it works

    listed = client.get("/v1/apikeys", headers=admin).json()
    mine = next(k for k in listed if k["id"] == created["id"])
    assert "key" not in mine and mine["last_used_at"] is not None and mine["name"] == "pbx"

    assert client.delete(f"/v1/apikeys/{created['id']}", headers=admin).json()["active"] is False
    refused = client.get("/v1/calls/nope/status", headers=pbx)
    assert refused.status_code == 401
    assert created["id"] not in {k["id"] for k in client.get("/v1/apikeys", headers=admin).json()}
    assert client.delete("/v1/apikeys/999999", headers=admin).status_code == 404
    assert client.get("/v1/apikeys", headers=pbx).status_code == 401


def test_an_expired_key_is_refused_with_the_reason(client, settings):
    with session_scope(settings) as session:
        key = create_key(session, [Scope.REVIEW], expires_at=utcnow() - timedelta(minutes=1))
    r = client.get("/v1/calls", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]


def test_key_use_is_recorded_without_a_write_per_request(client, settings):
    headers = key_for(settings, Scope.REVIEW)
    assert client.get("/v1/calls", headers=headers).status_code == 200
    with session_scope(settings) as session:
        first = max(k.last_used_at for k in session.query(ApiKey) if k.last_used_at)
    for _ in range(5):
        client.get("/v1/calls", headers=headers)
    with session_scope(settings) as session:
        assert max(k.last_used_at for k in session.query(ApiKey) if k.last_used_at) == first


def test_wrong_keys_are_throttled_per_client(client, settings):
    wrong = {"Authorization": "Bearer sqa_wrong"}
    answers = [client.get("/v1/calls", headers=wrong).status_code for _ in range(25)]
    assert answers[: settings.auth_failures_per_minute] == [401] * settings.auth_failures_per_minute
    limited = client.get("/v1/calls", headers=wrong)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"]["code"] == "too_many_requests"


def test_wrong_keys_do_not_lock_the_right_key_out_of_the_same_address(client, settings):
    """Behind one NAT or proxy, someone's wrong keys must not shut out everyone else."""
    right = key_for(settings, Scope.REVIEW)
    wrong = {"Authorization": "Bearer sqa_wrong"}
    for _ in range(settings.auth_failures_per_minute + 5):
        client.get("/v1/calls", headers=wrong)
    assert client.get("/v1/calls", headers=wrong).status_code == 429
    assert client.get("/v1/calls", headers=right).status_code == 200
    assert client.get("/v1/calls", headers=wrong).status_code == 429  # the guesser still waits


def test_a_guesser_that_changes_prefix_is_told_to_stop_but_locks_nobody_out(client, settings):
    right = key_for(settings, Scope.REVIEW)
    per_address = 5 * settings.auth_failures_per_minute
    answers = [
        client.get("/v1/calls", headers={"Authorization": f"Bearer sqa_{n:06d}x"}).status_code
        for n in range(per_address + 3)
    ]
    assert answers == [401] * per_address + [429] * 3
    limited = client.get("/v1/calls", headers={"Authorization": "Bearer sqa_another"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert client.get("/v1/calls", headers=right).status_code == 200


def test_a_request_needs_only_one_database_connection(settings):
    """With a pool of one connection and no overflow, uploads and reads still work."""
    from fastapi.testclient import TestClient

    from speechqa.storage.database import dispose_engines
    from speechqa_service.app import create_app
    from tests.support import EXAMPLES, submit

    dispose_engines()
    tight = settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0,
                                        "db_pool_timeout_s": 2.0})  # fmt: skip
    headers = key_for(tight, Scope.ADMIN)
    with TestClient(create_app(tight)) as client:
        r = submit(client, headers, EXAMPLES / "address_change.wav")
        assert r.status_code == 202, r.text
        assert client.get(f"/v1/calls/{r.json()['id']}", headers=headers).status_code == 200
        assert client.get("/v1/calls", headers=headers).status_code == 200
