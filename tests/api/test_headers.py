"""Every answer (pages, API, static files, errors) forbids framing and sniffing, and the pages
allow scripts only from the app itself."""

from __future__ import annotations

import pytest

from speechqa.apikeys import Scope
from tests.support import key_for

ANSWERS = [  # method, path, with a key, expected status
    ("GET", "/login", False, 200),
    ("GET", "/calls", False, 303),  # to the sign-in page
    ("GET", "/calls", True, 303),  # an API key is no browser session
    ("POST", "/login", False, 403),  # not from the sign-in form
    ("GET", "/static/app.css", False, 200),
    ("GET", "/static/vendor/plotly.min.js", False, 200),
    ("GET", "/static/nothing.js", False, 404),
    ("GET", "/v1/calls", False, 401),
    ("GET", "/v1/calls", True, 200),
    ("GET", "/v1/calls/nope", True, 404),
    ("GET", "/v1/calls?limit=nope", True, 422),
    ("GET", "/healthz", False, 200),
    ("GET", "/metrics", False, 200),
    ("GET", "/openapi.json", False, 200),
    ("GET", "/nowhere%00", False, 400),  # refused by the request guard, before any route
]


@pytest.mark.parametrize(("method", "path", "keyed", "status"), ANSWERS)
def test_every_answer_forbids_framing_and_sniffing(client, settings, method, path, keyed, status):
    headers = key_for(settings, Scope.REVIEW) if keyed else {}
    r = client.request(method, path, headers=headers, follow_redirects=False)
    assert r.status_code == status, r.text
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    directives = r.headers["content-security-policy"].split("; ")
    policy = {name: value for name, _, value in (d.partition(" ") for d in directives)}
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'self'"
    assert policy["script-src"] == "'self'"  # no inline or foreign scripts
    assert policy["form-action"] == "'self'" and policy["default-src"] == "'self'"


def test_the_openapi_pages_load_nothing_from_elsewhere_and_are_never_framed(client):
    r = client.get("/docs")
    assert r.status_code == 200
    policy = r.headers["content-security-policy"]
    assert "http" not in policy and "frame-ancestors 'none'" in policy
    assert r.headers["x-frame-options"] == "DENY"
