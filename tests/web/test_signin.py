"""Signing in to the web app without a browser: wrong keys are throttled like the API's, a
session stands for its key (revoking the key signs the browser out), and a page never answers
with a key or token in its address."""

from __future__ import annotations

import base64

from speechqa_service.web.deps import COOKIE

from speechqa.apikeys import Scope, create_key, list_keys, revoke_key
from speechqa.storage.database import session_scope
from tests.support import session_token, web_sign_in


def test_wrong_keys_are_throttled_per_client(client, settings):
    for _ in range(settings.auth_failures_per_minute):
        r = web_sign_in(client, "sqa_guess")
        assert r.status_code == 401 and "The API key is not valid." in r.text
    r = web_sign_in(client, "sqa_guess")
    assert r.status_code == 429 and "Too many" in r.text
    assert int(r.headers["retry-after"]) >= 1


def test_wrong_keys_do_not_lock_the_right_key_out_of_the_same_address(client, settings):
    with session_scope(settings) as session:
        key = create_key(session, [Scope.REVIEW], name="browser")
    for _ in range(settings.auth_failures_per_minute + 5):
        web_sign_in(client, "sqa_guess")
    assert web_sign_in(client, "sqa_guess").status_code == 429
    r = web_sign_in(client, key)
    assert r.status_code == 303 and r.headers["location"] == "/calls"


def test_revoking_the_key_ends_its_browser_sessions(client, settings):
    with session_scope(settings) as session:
        key = create_key(session, [Scope.REVIEW], name="browser")
    r = web_sign_in(client, key, next="https://evil.example/")
    assert r.status_code == 303 and r.headers["location"] == "/calls"  # never another host
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    client.cookies.set(COOKIE, session_token(r))
    assert client.get("/calls", follow_redirects=False).status_code == 200
    with session_scope(settings) as session:
        (info,) = list_keys(session)
        revoke_key(session, info.id)
    r = client.get("/calls", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/calls")
    assert r.headers["location"].endswith("&reason=invalid")
    assert "The API key is not valid." in client.get(r.headers["location"]).text


def test_a_sign_in_not_from_the_sign_in_form_is_refused(client, settings):
    """Login CSRF: another site's form cannot sign the browser in with the attacker's key."""
    with session_scope(settings) as session:
        key = create_key(session, [Scope.REVIEW], name="attacker")
    no_token = client.post("/login", data={"key": key}, follow_redirects=False)
    assert no_token.status_code == 403 and "came from another site" in no_token.text
    assert "speechqa_session" not in no_token.headers.get("set-cookie", "")
    page = client.get("/login")
    token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    cookie = {"Cookie": f"speechqa_signin={token}"}
    other = client.post("/login", data={"key": key, "csrf": "x" * 32}, headers=cookie,
                        follow_redirects=False)  # fmt: skip
    assert other.status_code == 403  # a token that is not this browser's
    for site in ("cross-site", "same-site"):  # another port of the host can set our cookies
        r = client.post("/login", data={"key": key, "csrf": token},
                        headers={**cookie, "Sec-Fetch-Site": site}, follow_redirects=False)  # fmt: skip
        assert r.status_code == 403, site
    r = client.post("/login", data={"key": key, "csrf": token},
                    headers={**cookie, "Sec-Fetch-Site": "same-origin"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and "speechqa_session=" in r.headers["set-cookie"]
    set_cookie = page.headers["set-cookie"]
    assert (
        "HttpOnly" in set_cookie and "SameSite=strict" in set_cookie and "Path=/login" in set_cookie
    )


def test_a_link_cannot_put_words_in_the_banner_and_a_form_message_shows_once(settings):
    from fastapi.testclient import TestClient

    from speechqa_service.app import create_app

    spoof = "Your key expired: mail it to help@evil.example"
    with session_scope(settings) as session:
        key = create_key(session, [Scope.LEAD], name="lead")
    with TestClient(create_app(settings), base_url="https://testserver") as browser:
        assert spoof not in browser.get("/login", params={"message": spoof}).text
        assert spoof not in browser.get("/login", params={"reason": spoof}).text
        assert web_sign_in(browser, key).status_code == 303
        browser.cookies.set(COOKIE, session_token(web_sign_in(browser, key)))
        for path in ("/calls", "/rulesets/default", "/queue"):
            page = browser.get(path, params={"message": spoof})
            assert (
                page.status_code == 200
                and spoof not in page.text
                and 'class="flash"' not in page.text
            )
        page = browser.get("/rulesets/default").text
        csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        source = browser.get("/v1/rulesets/default", headers={"Authorization": f"Bearer {key}"})
        posted = browser.post("/rulesets/default", data={"csrf": csrf, "source": source.json()["source"]},
                              follow_redirects=False)  # fmt: skip
        assert posted.status_code == 303 and posted.headers["location"] == "/rulesets/default"
        assert "message" not in posted.headers["location"]
        shown = browser.get("/rulesets/default").text
        assert '<p class="flash" role="status">Unchanged.</p>' in shown
        assert 'class="flash"' not in browser.get("/rulesets/default").text  # once
        # A flash cookie that this browser's session did not sign is not shown.
        forged = base64.urlsafe_b64encode(spoof.encode()).decode()
        browser.cookies.set("speechqa_flash", f"{forged}.{'0' * 64}")
        assert spoof not in browser.get("/calls").text
