"""What a browser must refuse: another origin on the same host framing the signed-in app
(clickjacking), and anything the pages would load or run against their Content-Security-Policy
(the pages themselves run under it without a single violation)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.web.conftest import shot

pytestmark = pytest.mark.browser


@pytest.fixture
def other_origin(site: dict[str, Any]) -> Iterator[str]:
    """A page on another port of 127.0.0.1 (same site: the browser sends the session cookie
    to the app's frame) that frames the signed-in /calls."""
    page = (
        "<!doctype html><title>another origin</title><h1>another origin</h1>"
        f'<iframe id="victim" src="{site["base"]}/calls" width="900" height="500"></iframe>'
    ).encode()

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
