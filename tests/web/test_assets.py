"""Static files over HTTP: gzipped when the browser accepts it, a year's cache under the
addresses pages use, ETag revalidation for any other, and the pages naming those addresses."""

from __future__ import annotations

import re

from speechqa_service.web.app import ASSETS
from speechqa_service.web.assets import PLOTLY_JS
from speechqa_service.web.deps import TEMPLATES


def test_plotly_goes_gzipped_and_comes_back_whole(client):
    r = client.get("/static/vendor/plotly.min.js", headers={"Accept-Encoding": "gzip, br"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert int(r.headers["content-length"]) < PLOTLY_JS.stat().st_size / 3
    assert r.headers["vary"] == "Accept-Encoding"
    assert r.content == PLOTLY_JS.read_bytes()  # httpx undid the gzip
    plain = client.get("/static/vendor/plotly.min.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert int(plain.headers["content-length"]) == PLOTLY_JS.stat().st_size
    refused = client.get("/static/app.css", headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers


def test_a_versioned_address_is_cached_for_a_year_any_other_is_revalidated(client):
    url = ASSETS.url("call.js")
    assert re.fullmatch(r"/static/call\.js\?v=[0-9a-f]{16}", url)
    assert client.get(url).headers["cache-control"] == "public, max-age=31536000, immutable"
    r = client.get("/static/call.js?v=old")
    assert r.headers["cache-control"] == "no-cache"
    again = client.get("/static/call.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert client.head(url).status_code == 200
    assert client.post(url).status_code == 405
    assert client.get("/static/../api/app.py").status_code == 404


def test_pages_name_versioned_files_and_plotly_only_through_charts_js(client):
    page = client.get("/login").text
    assert f'href="{ASSETS.url("app.css")}"' in page
    assert f'href="{ASSETS.url("favicon.png")}"' in page
    for template in TEMPLATES.glob("*.html"):  # every script by its versioned address
        text = template.read_text()
        assert 'src="/static/' not in text and "plotly.min.js" not in text.replace(
            "static_url('vendor/plotly.min.js')", ""
        ), template.name


def test_the_favicon_and_the_docs_files_are_served(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/png"
    docs = client.get("/docs").text
    for name in ("docs/swagger-ui-bundle.js", "docs/swagger-ui.css"):
        assert ASSETS.url(name) in docs
        assert client.get(ASSETS.url(name)).status_code == 200
    assert "cdn" not in docs and "http" not in docs.replace("http-equiv", "")
    redoc = client.get("/redoc").text
    assert ASSETS.url("docs/redoc.standalone.js") in redoc and "fonts.googleapis" not in redoc
