"""No control character in any string of any JSON body: a NUL (which PostgreSQL cannot store in
text, and which used to be a 500 there, or was kept where the column is JSON) or any other
control character is a 422 that names the field, and nothing is stored."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from speechqa_service.api.schemas import RequestBody

from speechqa_service.app import create_app
from tests.support import COACHING_SESSION, Floor, make_floor, table_rows

NUL = "\u0000"

# (field as the error names it, who, method, url, body, table that must not change)
Case = tuple[str, str, str, Callable[[Floor], str], dict[str, Any], str]
QUEUE = {"name": "w", "rule": {"kind": "random_per_agent", "per_agent": 1}, "reviewers": ["rita"]}
CALIBRATION = {"name": "nov", "calls": ["CALL"], "reviewers": ["rita", "rob"]}


def _with(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """``body`` with the value at ``path`` (dots; ``[0]`` for a list's first item) replaced."""
    import copy

    out = copy.deepcopy(body)
    target: Any = out
    parts = path.replace("[0]", ".0").split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    last = parts[-1]
    if last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return out


USER = {"name": "nora", "role": "agent", "agent_id": "nora", "teams": ["billing"]}
CASES: list[Case] = [
    ("name", "ada", "POST", lambda f: "/v1/users", _with(USER, "name", f"no{NUL}ra"), "users"),
    ("agent_id", "ada", "POST", lambda f: "/v1/users", _with(USER, "agent_id", f"a{NUL}"), "users"),
    ("teams[0]", "ada", "POST", lambda f: "/v1/users", _with(USER, "teams[0]", f"b{NUL}"), "users"),
    ("name", "ada", "POST", lambda f: "/v1/apikeys", {"user": "rob", "name": f"k{NUL}"}, "api_keys"),
    ("user", "ada", "POST", lambda f: "/v1/apikeys", {"user": f"rob{NUL}"}, "api_keys"),
    ("name", "lee", "POST", lambda f: "/v1/queues", _with(QUEUE, "name", f"w{NUL}"), "review_queues"),
    ("reviewers[0]", "lee", "POST", lambda f: "/v1/queues",
     _with(QUEUE, "reviewers[0]", f"rita{NUL}"), "review_queues"),
    ("rule.filters.team", "lee", "POST", lambda f: "/v1/queues",
     _with(QUEUE, "rule", {"kind": "filter", "filters": {"team": f"b{NUL}"}}), "review_queues"),
    ("name", "lee", "POST", lambda f: "/v1/calibrations",
     _with(CALIBRATION, "name", f"n{NUL}"), "calibration_sessions"),
    ("calls[0]", "lee", "POST", lambda f: "/v1/calibrations",
     _with(CALIBRATION, "calls[0]", f"c{NUL}"), "calibration_sessions"),
    ("reviewers[0]", "lee", "POST", lambda f: "/v1/calibrations",
     _with(CALIBRATION, "reviewers[0]", f"rita{NUL}"), "calibration_sessions"),
    ("name", "carla", "POST", lambda f: "/v1/coaching/collections", {"name": f"k{NUL}"},
     "clip_collections"),
    ("description", "carla", "POST", lambda f: "/v1/coaching/collections",
     {"name": "k", "description": f"d{NUL}"}, "clip_collections"),
    ("agent_id", "carla", "POST", lambda f: "/v1/coaching/sessions",
     _with(COACHING_SESSION, "agent_id", f"ann{NUL}"), "coaching_sessions"),
    ("notes", "carla", "POST", lambda f: "/v1/coaching/sessions",
     _with(COACHING_SESSION, "notes", f"n{NUL}"), "coaching_sessions"),
    ("focus[0].kpi", "carla", "POST", lambda f: "/v1/coaching/sessions",
     _with(COACHING_SESSION, "focus", [{"kpi": f"qa{NUL}"}]), "coaching_sessions"),
    ("text", "rita", "POST", lambda f: f"{f.review(f.calls[0])}/comments", {"text": f"t{NUL}"},
     "reviews"),
    ("reason", "rita", "PUT", lambda f: f"{f.review(f.calls[0])}/items/2.1",
     {"decision": "fail", "reason": f"r{NUL}"}, "reviews"),
    ("answers.2.1.reason", "lee", "POST", lambda f: f"{f.review(f.calls[0], disputed=True)}/resolve",
     {"outcome": "adjusted", "reason": "r", "answers": {"2.1": {"decision": "pass",
                                                                "reason": f"x{NUL}"}}}, "reviews"),
    ("comment", "ann", "POST", lambda f: f"{f.review(f.calls[0], submitted=True)}/dispute",
     {"items": ["2.1"], "comment": f"c{NUL}"}, "reviews"),
    ("description", "ada", "POST", lambda f: "/v1/webhooks",
     {"url": "https://93.184.215.14/h", "events": ["call.analyzed"], "description": f"d{NUL}"},
     "webhook_endpoints"),
]  # fmt: skip


def test_a_nul_in_any_body_field_is_a_422_naming_it_and_nothing_is_stored(client, settings):
    floor = make_floor(settings, client)
    problems = []
    for field, who, method, url, body, table in CASES:
        if "calls" in body:
            body = {**body, "calls": [c.replace("CALL", floor.calls[0]) for c in body["calls"]]}
        path = url(floor)
        before = table_rows(settings, table)
        r = client.request(method, path, headers=floor.keys[who], json=body)
        message = r.json().get("error", {}).get("message", "") if r.content else ""
        if r.status_code != 422 or f"{field} holds the control character U+0000" not in message:
            problems.append(f"{method} {path} {field}: {r.status_code} {r.text[:200]}")
        elif table_rows(settings, table) != before:
            problems.append(f"{method} {path} {field}: {table} changed")
    assert problems == []


@pytest.mark.parametrize("char", ["\\u0001", "\\u0007", "\\u001b", "\\u007f", "\\u009b", "\\ud800"])
def test_other_control_characters_are_refused_too(client, admin, char):
    body = '{"name": "x' + char + 'y", "role": "reviewer"}'  # JSON escapes: a lone surrogate too
    r = client.post("/v1/users", headers={**admin, "content-type": "application/json"},
                    content=body.encode())  # fmt: skip
    assert r.status_code == 422 and "control character" in r.json()["error"]["message"]


def test_tabs_and_line_breaks_in_free_text_are_kept(client, settings):
    floor = make_floor(settings, client)
    notes = "Line one\n\tindented\r\nline three"
    r = floor.post("carla", "/v1/coaching/sessions", {**COACHING_SESSION, "notes": notes})
    assert r.status_code == 201, r.text
    assert r.json()["notes"] == notes


def _routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        else:
            inner = getattr(route, "original_router", route)
            yield from _routes(list(getattr(inner, "routes", [])))


@pytest.mark.parametrize("backend", ["embedded"])
def test_every_json_body_is_a_request_body(settings, backend):
    """A body added later gets the same check: every route's JSON body model is a RequestBody,
    and its schema gives every string the pattern."""
    app = create_app(settings)
    bodies = {r.path: r.body_field.field_info.annotation for r in _routes(app.routes)
              if r.body_field is not None and r.path.startswith("/v1")}  # fmt: skip
    assert len(bodies) >= 12
    assert {path: model for path, model in bodies.items()
            if not (isinstance(model, type) and issubclass(model, RequestBody))} == {}  # fmt: skip
    schemas = app.openapi()["components"]["schemas"]
    user = schemas["UserCreate"]["properties"]
    assert "pattern" in user["name"] and "pattern" in user["teams"]["items"]
