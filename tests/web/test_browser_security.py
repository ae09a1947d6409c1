"""What a browser must refuse: another origin on the same host framing the signed-in app
(clickjacking), and anything the pages would load or run against their Content-Security-Policy
(the pages themselves run under it without a single violation)."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.support import shot

pytestmark = pytest.mark.browser


def _serve(html: str) -> Iterator[str]:
    """``html`` served from another port of 127.0.0.1: same site as the app (the browser sends
    the app's cookies with requests from it, and its scripts may set cookies for the host)."""
    page = html.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/"
    server.shutdown()
    server.server_close()
    thread.join(10)


@pytest.fixture
def other_origin(site: dict[str, Any]) -> Iterator[str]:
    """A page of another origin that frames the signed-in /calls."""
    yield from _serve(
        "<!doctype html><title>another origin</title><h1>another origin</h1>"
        f'<iframe id="victim" src="{site["base"]}/calls" width="900" height="500"></iframe>'
    )


@pytest.fixture
def login_csrf(site: dict[str, Any]) -> Iterator[str]:
    """A page of another origin that signs the browser in with the attacker's key: it plants a
    sign-in form token it fetched itself as the app's cookie, and posts the form with it."""
    login = httpx.get(site["base"] + "/login")
    token = re.search(r'name="csrf" value="([^"]+)"', login.text)
    assert token is not None
    yield from _serve(
        "<!doctype html><title>another origin</title>"
        f'<form id="f" method="post" action="{site["base"]}/login">'
        f'<input name="key" value="{site["keys"]["sam"]}">'
        f'<input name="csrf" value="{token.group(1)}"></form>'
        f'<script>document.cookie = "speechqa_signin={token.group(1)}; path=/login";'
        "document.getElementById('f').submit();</script>"
    )


def test_another_origin_cannot_sign_the_browser_in(site, page_for, login_csrf):
    page = page_for(None)
    page.goto(login_csrf)
    page.wait_for_url(site["base"] + "/login")
    assert "came from another site" in page.locator("[role=alert]").inner_text()
    shot(page, "sign-in-from-another-origin")
    assert "speechqa_session" not in {c["name"] for c in page.context.cookies()}
    page.goto(site["base"] + "/calls")
    assert "/login" in page.url  # not signed in as the attacker
    # The app's own form still signs in, in the same browser.
    page.fill("#key", site["keys"]["rita"])
    page.click("button[type=submit]")
    page.wait_for_url("**/calls")


def test_another_origin_cannot_frame_the_signed_in_app(site, page_for, other_origin):
    page = page_for("rita")
    assert "Sign out" in page.content()  # signed in: the cookie would go with the frame
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "frame" in m.text else None)
    framed = page.context.request.get(site["base"] + "/calls")
    assert framed.status == 200 and "Sign out" in framed.text()  # the session does work
    page.goto(other_origin)
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)
    frame = page.frame_locator("#victim")
    shot(page, "framed-by-another-origin")
    assert frame.locator("text=Sign out").count() == 0
    assert frame.locator("table.calls").count() == 0
    child = page.main_frame.child_frames[0]
    assert child.url.startswith("chrome-error://") or "Sign out" not in child.content()
    assert any("frame-ancestors" in text or "X-Frame-Options" in text for text in blocked), blocked


PAGES = [  # who, path (with its charts and scripts), what shows it drew
    ("lee", "/calls", "table.calls"),
    ("lee", "/calls/{billing_refund}", "#player"),
    ("lee", "/agents/ann?bucket=day", "#trend-chart[data-drawn=yes] svg.main-svg"),
    ("lee", "/teams/north", "#trend-chart[data-drawn=yes]"),
    ("lee", "/rulesets/default", "#source"),
    ("cara", "/coaching", "form.filters"),
]


@pytest.mark.parametrize(("who", "path", "drawn"), PAGES)
def test_the_pages_run_under_their_policy_without_a_violation(site, page_for, who, path, drawn):
    page = page_for(who)
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('Content Security violation: ' + e.violatedDirective + ' ' + e.blockedURI))"
    )
    page.goto(site["base"] + path.format(**site["calls"]))
    page.wait_for_selector(drawn)
    page.wait_for_timeout(300)
    assert violations == []
    # An injected inline script would not run.
    ran = page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
        " document.body.appendChild(s); return window.__ran === 1; }"
    )
    assert ran is False
