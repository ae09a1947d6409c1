"""A write is answered after its commit: a 2xx means stored, and a commit the database refuses
answers 500 ``not_stored`` with nothing kept.

The refusal is the database's own, at COMMIT: on PostgreSQL a deferred constraint trigger that
raises, on SQLite a trigger that leaves a deferred foreign key dangling. Both fire on any insert,
update or delete of the table the route writes, and are checked only when the transaction
commits, which is where a route that answered first would lose the write after its 2xx.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi.routing import APIRoute

from speechqa.settings import Settings
from speechqa_service.app import create_app
from tests.support import (
    COACHING_SESSION,
    RULESET,
    Floor,
    live_server,
    make_floor,
    refused_commits,
    table_rows,
)

Prepare = Callable[[Floor], tuple[str, str, str, Any]]
"""Sets up what a route acts on; gives (who, method, url, json body)."""

HOOK = {"url": "https://93.184.215.14/hook", "events": ["call.analyzed"]}
"""A public address written as one (no DNS lookup, no private receiver)."""


def _queue(f: Floor) -> int:
    body = {
        "name": "q" + str(len(rows_made)),
        "rule": {"kind": "random_per_agent", "per_agent": 1},
        "reviewers": ["rita"],
    }
    rows_made.append("q")
    queue: int = f.post("lee", "/v1/queues", body).json()["id"]
    return queue


def _calibration(f: Floor) -> int:
    body = {"name": "c", "calls": [f.calls[0]], "reviewers": ["rita", "rob"]}
    created: int = f.post("lee", "/v1/calibrations", body).json()["id"]
    return created


def _collection(f: Floor) -> int:
    name = f"k{len(rows_made)}"
    rows_made.append(name)
    collection: int = f.post("carla", "/v1/coaching/collections", {"name": name}).json()["id"]
    return collection


rows_made: list[str] = []


def _clip(f: Floor) -> str:
    c = _collection(f)
    body = {"call_id": f.calls[0], "start": 1.0, "end": 3.0}
    clip = f.post("carla", f"/v1/coaching/collections/{c}/clips", body).json()["id"]
    return f"/v1/coaching/collections/{c}/clips/{clip}"


def _coaching_session(f: Floor) -> int:
    created: int = f.post("carla", "/v1/coaching/sessions", COACHING_SESSION).json()["id"]
    return created


def _key(f: Floor) -> int:
    key: int = f.post("ada", "/v1/apikeys", {"user": "rob"}).json()["id"]
    return key


def _webhook(f: Floor) -> int:
    created = f.post("ada", "/v1/webhooks", HOOK)
    assert created.status_code == 201, created.text
    hook: int = created.json()["id"]
    return hook


# fmt: off
WRITES: dict[str, tuple[str, Prepare]] = {
    # name: (the table its commit writes, how to reach it)
    "POST /v1/users": ("users", lambda f: ("ada", "POST", "/v1/users",
                                           {"name": "nora", "role": "reviewer"})),
    "POST /v1/apikeys": ("api_keys", lambda f: ("ada", "POST", "/v1/apikeys", {"user": "rob"})),
    "DELETE /v1/apikeys/{id}": ("api_keys", lambda f: ("ada", "DELETE",
                                                       f"/v1/apikeys/{_key(f)}", None)),
    "POST /v1/webhooks": ("webhook_endpoints", lambda f: ("ada", "POST", "/v1/webhooks", HOOK)),
    "POST /v1/webhooks/{id}/rotate-secret": ("webhook_endpoints", lambda f: (
        "ada", "POST", f"/v1/webhooks/{_webhook(f)}/rotate-secret", None)),
    "DELETE /v1/webhooks/{id}": ("webhook_endpoints", lambda f: (
        "ada", "DELETE", f"/v1/webhooks/{_webhook(f)}", None)),
    "POST /v1/calls/{id}/reviews": ("reviews", lambda f: (
        "rita", "POST", f"/v1/calls/{f.calls[0]}/reviews", None)),
    "PUT /v1/reviews/{id}/items/{key}": ("reviews", lambda f: (
        "rita", "PUT", f"{f.review(f.calls[0])}/items/2.1",
        {"decision": "fail", "reason": "no closing"})),
    "POST /v1/reviews/{id}/comments": ("reviews", lambda f: (
        "rita", "POST", f"{f.review(f.calls[0])}/comments", {"text": "listen at 1:05"})),
    "POST /v1/reviews/{id}/submit": ("reviews", lambda f: (
        "rita", "POST", f"{f.review(f.calls[0])}/submit", None)),
    "POST /v1/reviews/{id}/acknowledge": ("reviews", lambda f: (
        "ann", "POST", f"{f.review(f.calls[0], submitted=True)}/acknowledge", None)),
    "POST /v1/reviews/{id}/dispute": ("reviews", lambda f: (
        "ann", "POST", f"{f.review(f.calls[0], submitted=True)}/dispute",
        {"items": ["2.1"], "comment": "I did close"})),
    "POST /v1/reviews/{id}/resolve": ("reviews", lambda f: (
        "lee", "POST", f"{f.review(f.calls[0], disputed=True)}/resolve",
        {"outcome": "upheld", "reason": "as scored"})),
    "POST /v1/queues": ("review_queues", lambda f: (
        "lee", "POST", "/v1/queues",
        {"name": "w", "rule": {"kind": "random_per_agent", "per_agent": 1},
         "reviewers": ["rita"]})),
    "POST /v1/queues/{id}/sample": ("queue_items", lambda f: (
        "lee", "POST", f"/v1/queues/{_queue(f)}/sample", None)),
    "POST /v1/calibrations": ("calibration_sessions", lambda f: (
        "lee", "POST", "/v1/calibrations",
        {"name": "nov", "calls": [f.calls[0]], "reviewers": ["rita", "rob"]})),
    "POST /v1/calibrations/{id}/calls/{call}/reviews": ("reviews", lambda f: (
        "rita", "POST", f"/v1/calibrations/{_calibration(f)}/calls/{f.calls[0]}/reviews",
        None)),
    "POST /v1/coaching/collections": ("clip_collections", lambda f: (
        "carla", "POST", "/v1/coaching/collections", {"name": "empathy"})),
    "POST /v1/coaching/collections/{id}/clips": ("clips", lambda f: (
        "carla", "POST", f"/v1/coaching/collections/{_collection(f)}/clips",
        {"call_id": f.calls[0], "start": 1.0, "end": 3.0})),
    "DELETE /v1/coaching/collections/{id}/clips/{clip}": ("clips", lambda f: (
        "carla", "DELETE", _clip(f), None)),
    "POST /v1/coaching/sessions": ("coaching_sessions", lambda f: (
        "carla", "POST", "/v1/coaching/sessions", COACHING_SESSION)),
    "POST /v1/coaching/sessions/{id}/acknowledge": ("coaching_sessions", lambda f: (
        "ann", "POST", f"/v1/coaching/sessions/{_coaching_session(f)}/acknowledge",
        None)),
    "PUT /v1/rulesets/{name}": ("ruleset_versions", lambda f: (
        "lee", "PUT", "/v1/rulesets/billing", RULESET.replace("points: 10}", "points: 5}", 1))),
    "DELETE /v1/calls/{id}": ("calls", lambda f: (
        "ada", "DELETE", f"/v1/calls/{f.calls[1]}", None)),
}
# fmt: on


def test_a_refused_commit_answers_500_and_stores_nothing(settings):
    problems = []
    with answering_client(settings) as client:
        floor = make_floor(settings, client)
        for name, (table, prepare) in WRITES.items():
            who, method, url, body = prepare(floor)
            before = table_rows(settings, table)
            content = body.encode() if isinstance(body, str) else None
            with refused_commits(settings, table):
                r = client.request(method, url, headers=floor.keys[who],
                                   json=None if content else body, content=content)  # fmt: skip
            after = table_rows(settings, table)
            if r.status_code != 500 or r.json()["error"]["code"] != "not_stored":
                problems.append(f"{name}: {r.status_code} {r.text[:200]}")
            elif after != before:
                problems.append(f"{name}: {table} changed though the commit was refused")
            elif any(
                leak in r.text
                for leak in (
                    "Traceback",
                    "by the test",
                    "FOREIGN KEY",
                    "sqlite",
                    "psycopg",
                    "127.0.0.1",
                )
            ):
                problems.append(f"{name}: the answer leaks the database's error: {r.text}")
    assert problems == []


def test_every_session_route_commits_before_it_answers(settings):
    """A route added later gets the same: every route on the database session has it with
    ``scope="function"`` (exit code before the response), none with the default."""
    from speechqa_service.api.deps import get_session

    def uses(dependant: Any) -> Iterator[Any]:
        for dep in dependant.dependencies:
            if dep.call is get_session:
                yield dep
            yield from uses(dep)

    def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
        for route in routes:
            if isinstance(route, APIRoute):
                yield route
            else:  # an included router (FastAPI >= 0.13x keeps them as their own entries)
                inner = getattr(route, "original_router", route)
                yield from api_routes(list(getattr(inner, "routes", [])))

    found = [(r.path, d.scope) for r in api_routes(create_app(settings).routes)
             for d in uses(r.dependant)]  # fmt: skip
    assert len(found) > 30
    assert [(path, scope) for path, scope in found if scope != "function"] == []


def test_a_key_for_a_user_just_created_never_misses_it(client, settings):
    """Over a real socket, where the client has its answer as soon as it is sent: the user
    exists by then (the probe saw a 404 for the key in 1 of 20 tries; before the fix 200 tries
    missed here every run)."""
    admin = make_floor(settings, client).keys["ada"]
    with (
        live_server(settings) as port,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=admin) as live,
    ):
        for n in range(200):
            user = live.post("/v1/users", json={"name": f"user {n}", "role": "reviewer"})
            assert user.status_code == 201, user.text
            key = live.post("/v1/apikeys", json={"user": f"user {n}"})
            assert key.status_code == 201, (n, key.text)


@contextmanager
def answering_client(settings: Settings) -> Iterator[Any]:
    """The app as a client sees it: a server error is an answer, not an exception in the test."""
    from fastapi.testclient import TestClient

    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client
