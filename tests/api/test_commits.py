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
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.routing import APIRoute
from sqlalchemy import text

from speechqa.apikeys import create_key
from speechqa.scoring import score_calls
from speechqa.settings import Settings
from speechqa.storage.database import get_engine, session_scope
from speechqa.users import create_user
from speechqa_service.app import create_app
from tests.api.test_hostile_input import live_server
from tests.api.test_rulesets import RULESET
from tests.support import reference_transcript, store_call


@contextmanager
def refused_commits(settings: Settings, table: str) -> Iterator[None]:
    """Every transaction that writes ``table`` fails at COMMIT (not before) while this lasts."""
    engine = get_engine(settings)
    if engine.dialect.name == "postgresql":
        install = [
            "CREATE FUNCTION refuse_commit() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'commit refused by the test'; END $$",
            f"CREATE CONSTRAINT TRIGGER refuse_commit AFTER INSERT OR UPDATE OR DELETE ON {table}"
            " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_commit()",
        ]
        remove = [f"DROP TRIGGER refuse_commit ON {table}", "DROP FUNCTION refuse_commit()"]
    else:
        install = [
            "CREATE TABLE refuse_parent (id INTEGER PRIMARY KEY)",
            "CREATE TABLE refuse_child (parent INTEGER"
            " REFERENCES refuse_parent (id) DEFERRABLE INITIALLY DEFERRED)",
        ] + [
            f"CREATE TRIGGER refuse_{op.lower()} AFTER {op} ON {table}"
            " BEGIN INSERT INTO refuse_child VALUES (-1); END"
            for op in ("INSERT", "UPDATE", "DELETE")
        ]
        remove = [f"DROP TRIGGER refuse_{op}" for op in ("insert", "update", "delete")]
        remove += ["DROP TABLE refuse_child", "DROP TABLE refuse_parent"]
    with engine.begin() as conn:
        for statement in install:
            conn.execute(text(statement))
    try:
        yield
    finally:
        with engine.begin() as conn:
            for statement in remove:
                conn.execute(text(statement))


def rows(settings: Settings, table: str) -> list[tuple[Any, ...]]:
    with get_engine(settings).connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]


@dataclass
class Floor:
    """A scored billing call, a second one, users of every role with keys, and what the write
    routes act on."""

    client: Any
    keys: dict[str, dict[str, str]]
    calls: list[str]

    def post(self, who: str, url: str, body: Any = None) -> Any:
        return self.client.post(url, headers=self.keys[who], json=body)

    def review(self, call: str, *, submitted: bool = False, disputed: bool = False) -> str:
        """rita's open draft on the call; once her review counts, her re-evaluation of it (a
        dispute of it is settled first: no re-evaluation while one is open)."""
        start = self.post("rita", f"/v1/calls/{call}/reviews", {"reason": "another look"})
        if start.status_code == 409 and start.json()["error"]["details"]["status"] == "disputed":
            counted = start.json()["error"]["details"]["review_id"]
            settled = {"outcome": "upheld", "reason": "stands"}
            assert self.post("lee", f"/v1/reviews/{counted}/resolve", settled).status_code == 200
            start = self.post("rita", f"/v1/calls/{call}/reviews", {"reason": "another look"})
        review = start.json()
        url = f"/v1/reviews/{review['id']}"
        if submitted or disputed:
            assert self.post("rita", f"{url}/submit").status_code == 200
        if disputed:
            body = {"items": ["2.1"], "comment": "I did close"}
            assert self.post("ann", f"{url}/dispute", body).status_code == 200
        return url


def make_floor(settings: Settings, client: Any) -> Floor:
    admin_key = None
    with session_scope(settings) as session:
        calls = [store_call(session, reference_transcript("billing_refund"), agent_id="ann",
                            team="billing", ruleset=None) for _ in range(2)]  # fmt: skip
        score_calls(session, calls)
        keys = {}
        for name, role, agent in (("rita", "reviewer", None), ("rob", "reviewer", None),
                                  ("ann", "agent", "ann"), ("lee", "lead", None),
                                  ("carla", "coach", None), ("ada", "admin", None)):  # fmt: skip
            create_user(session, name, role, agent_id=agent)
            keys[name] = {"Authorization": f"Bearer {create_key(session, [], user=name)}"}
        admin_key = keys["ada"]
    assert admin_key is not None
    put = client.put("/v1/rulesets/billing", headers=admin_key, content=RULESET.encode())
    assert put.status_code == 201, put.text
    return Floor(client, keys, calls)


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


SESSION = {"agent_id": "ann", "focus": [{"kpi": "qa_score"}], "notes": "n"}


def _coaching_session(f: Floor) -> int:
    created: int = f.post("carla", "/v1/coaching/sessions", SESSION).json()["id"]
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
        "carla", "POST", "/v1/coaching/sessions", SESSION)),
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
            before = rows(settings, table)
            content = body.encode() if isinstance(body, str) else None
            with refused_commits(settings, table):
                r = client.request(method, url, headers=floor.keys[who],
                                   json=None if content else body, content=content)  # fmt: skip
            after = rows(settings, table)
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
    from api.deps import get_session

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
