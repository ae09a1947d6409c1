"""Signing in to the web app without a browser: wrong keys are throttled like the API's, a
session stands for its key (revoking the key signs the browser out), and a page never answers
with a key or token in its address."""

from __future__ import annotations

from speechqa.apikeys import Scope, create_key, list_keys, revoke_key
from speechqa.storage.database import session_scope
from web.deps import COOKIE


def test_wrong_keys_are_throttled_per_client(client, settings):
    for _ in range(settings.auth_failures_per_minute):
        r = client.post("/login", data={"key": "sqa_guess"}, follow_redirects=False)
        assert r.status_code == 401 and "The API key is not valid." in r.text
    r = client.post("/login", data={"key": "sqa_guess"}, follow_redirects=False)
    assert r.status_code == 429 and "Too many" in r.text
    assert int(r.headers["retry-after"]) >= 1


def test_wrong_keys_do_not_lock_the_right_key_out_of_the_same_address(client, settings):
    with session_scope(settings) as session:
        key = create_key(session, [Scope.REVIEW], name="browser")
    for _ in range(settings.auth_failures_per_minute + 5):
        client.post("/login", data={"key": "sqa_guess"}, follow_redirects=False)
    assert client.post("/login", data={"key": "sqa_guess"}).status_code == 429
    r = client.post("/login", data={"key": key}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/calls"


def test_revoking_the_key_ends_its_browser_sessions(client, settings):
    with session_scope(settings) as session:
        key = create_key(session, [Scope.REVIEW], name="browser")
    r = client.post("/login", data={"key": key, "next": "https://evil.example/"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/calls"  # never another host
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    client.cookies.set(COOKIE, token)
    assert client.get("/calls", follow_redirects=False).status_code == 200
    with session_scope(settings) as session:
        (info,) = list_keys(session)
        revoke_key(session, info.id)
    r = client.get("/calls", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/calls")
    assert "not%20valid" in r.headers["location"]
