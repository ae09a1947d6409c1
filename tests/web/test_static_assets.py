"""What the browser downloads: static files compressed and cached, Plotly only where a page has a
chart, and /docs drawn from the installed package with no request leaving the machine.

The page-load figures (first view with an empty cache, later view, bytes transferred; on the
loopback and over an emulated 20 Mbit/s link) are written to
``var/test-artifacts/web/page-loads.json`` for the closing note of a change.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support import BROWSER_ARTIFACTS, shot

pytestmark = pytest.mark.browser

PLOTLY_RAW = 4_000_000  # plotly.min.js is about 4.8 MB; gzip takes it to about 1.4 MB

MEASURE = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const res = performance.getEntriesByType("resource");
  return {dcl_ms: Math.round(nav.domContentLoadedEventEnd), load_ms: Math.round(nav.loadEventEnd),
          transferred: nav.transferSize + res.reduce((n, r) => n + r.transferSize, 0),
          plotly: res.filter(r => r.name.includes("plotly")).map(r => r.transferSize)};
}"""


def _view(page: Any, url: str, drawn: str | None) -> dict[str, Any]:
    page.goto(url, wait_until="load")
    if drawn:
        page.wait_for_selector(drawn)
    return dict(page.evaluate(MEASURE))


def _pages(site: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    base, calls = site["base"], site["calls"]
    return {
        "call page": (
            f"{base}/calls/{calls['billing_refund']}",
            "#sentiment-chart[data-drawn=yes]",
        ),
        "team KPI page": (f"{base}/teams/north", "#trend-chart[data-drawn=yes]"),
        "failed call page": (f"{base}/calls/{calls['failed']}", None),
        "calls list": (f"{base}/calls", None),
    }


@pytest.mark.parametrize("link", ["loopback", "20 Mbit/s"])
def test_first_and_later_views_transfer_plotly_compressed_once(site, page_for, link):
    figures: dict[str, Any] = {}
    for name, (url, drawn) in _pages(site).items():
        page = page_for("lee")  # a fresh context: an empty cache but for the sign-in page
        if link != "loopback":
            cdp = page.context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", {
                "offline": False, "latency": 20, "downloadThroughput": 20e6 / 8,
                "uploadThroughput": 20e6 / 8})  # fmt: skip
        first = _view(page, url, drawn)
        later = _view(page, url, drawn)
        figures[name] = {"first": first, "later": later}
        if drawn:  # Plotly came gzipped the first time, and from the cache after
            assert first["plotly"] and 0 < first["plotly"][0] < PLOTLY_RAW / 2, first
            assert later["plotly"] == [0], later
        else:  # a page without a chart never asks for Plotly
            assert first["plotly"] == [] and later["plotly"] == [], (name, first)
    BROWSER_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = BROWSER_ARTIFACTS / "page-loads.json"
    known = json.loads(out.read_text()) if out.exists() else {}
    known[link] = figures
    out.write_text(json.dumps(known, indent=1))
    print(json.dumps(figures))


def test_docs_render_with_every_request_kept_on_the_machine(site, page_for):
    page = page_for(None)
    asked: list[str] = []
    blocked: list[str] = []
    errors: list[str] = []

    def route(r: Any) -> None:
        asked.append(r.request.url)
        if urlsplit(r.request.url).hostname != "127.0.0.1":
            blocked.append(r.request.url)
            r.abort()
        else:
            r.continue_()

    page.context.route("**/*", route)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(site["base"] + "/docs")
    page.wait_for_selector(".swagger-ui .opblock-tag", timeout=20_000)
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("speechqa")
    assert page.locator(".opblock-summary-path").count() > 20  # the operations are listed
    shot(page, "docs-offline")
    page.goto(site["base"] + "/redoc")
    page.wait_for_selector("[role=search], .api-content", timeout=20_000)
    assert "speechqa" in page.locator("h1").first.inner_text()
    shot(page, "redoc-offline")
    # ReDoc's bundle names its maker's logo on their site: the policy refuses it before any request.
    errors = [
        e
        for e in errors
        if not ("cdn.redoc.ly/redoc/logo-mini.svg" in e and "Content Security Policy" in e)
    ]
    assert blocked == [] and errors == [], (blocked, errors)
    assert any(u.endswith("/favicon.ico") or "favicon" in u for u in asked)


def test_a_fresh_browser_gets_a_favicon(site, page_for):
    page = page_for(None)
    answers: dict[str, int] = {}
    page.on("response", lambda r: answers.__setitem__(urlsplit(r.url).path, r.status))
    page.goto(site["base"] + "/login")
    page.wait_for_timeout(300)
    icon = page.evaluate("document.querySelector('link[rel=icon]').href")
    assert page.request.get(icon).status == 200
    assert all(status == 200 for path, status in answers.items() if "favicon" in path), answers
