"""Who sees what: every role against the routes, checked against a table.

Ann (team billing) and Bob (team tech) each have a scored call. Agents see only their own calls
and scores; users limited to teams see only those teams; what a caller may not see is 404, not
403, so ids do not leak; what a role may not do at all is 403.
"""

from __future__ import annotations

from typing import Any

import pytest

from speechqa.apikeys import Scope, create_key
from speechqa.scoring import score_calls
from speechqa.storage.database import session_scope
from speechqa.users import create_user
from tests.support import reference_transcript, store_call

RULESET = "name: roles\nrules:\n  - id: hello\n    match: hello\n"
USERS = {
    "agent-ann": ("agent", [], "ann"),
    "agent-bob": ("agent", [], "bob"),
    "reviewer-billing": ("reviewer", ["billing"], None),
    "reviewer-all": ("reviewer", [], None),
    "coach-tech": ("coach", ["tech"], None),
    "lead": ("lead", [], None),
    "admin": ("admin", [], None),
    "upstream": ("ingest", [], None),
}
# role: {route: expected status, or (status, number of calls listed)}
TABLE: dict[str, dict[str, Any]] = {
    "agent-ann": {"list": (200, ["ann"]), "list?agent_id=bob": (200, []), "ann": 200, "bob": 404,
                  "webhooks": 403, "add-webhook": 403,
                  "ann/audio": 410, "bob/audio": 404, "kpis/ann": 200, "kpis/bob": 404,
                  "team/billing": 403, "journal": 403, "put-ruleset": 403, "users": 403,
                  "review/ann": 201, "review/bob": 404, "reviews-of/ann": 200,
                  "reviews-of/bob": 404,
                  "my-queue": 403, "quality": 403, "queue": 403, "calibration": 403,
                  "examples": 403, "session/ann": 403, "sessions": 200},
    "agent-bob": {"list": (200, ["bob"]), "ann": 404, "bob": 200, "kpis/ann": 404},
    "reviewer-billing": {"list": (200, ["ann"]), "list?team=tech": (200, []), "ann": 200,
                         "webhooks": 403, "add-webhook": 403,
                         "bob": 404, "bob/audio": 404, "kpis/ann": 200, "kpis/bob": 404,
                         "team/billing": 200, "team/tech": 404, "journal": 200,
                         "journal?team=tech": 404, "put-ruleset": 403, "delete-bob": 403,
                         "review/ann": 201, "review/bob": 404, "my-queue": 200, "quality": 200,
                         "queue": 403, "calibration": 403, "examples": 403,
                         "session/ann": 403},
    "reviewer-all": {"list": (200, ["ann", "bob"]), "ann": 200, "bob": 200, "team/tech": 200,
                     "journal": 200, "put-ruleset": 403},
    "coach-tech": {"list": (200, ["bob"]), "ann": 404, "bob": 200, "kpis/ann": 404,
                   "webhooks": 403,
                   "team/tech": 200, "team/billing": 404, "leaderboard": 200,
                   "review/ann": 404, "review/bob": 201, "examples": 200,
                   "session/ann": 404, "session/bob": 201},
    "lead": {"list": (200, ["ann", "bob"]), "put-ruleset": 201, "users": 403,
             "webhooks": 403, "add-webhook": 403,
             "delete-bob": 403, "queue": 201, "calibration": 201, "review/bob": 201,
             "examples": 200, "session/ann": 201},
    "admin": {"list": (200, ["ann", "bob"]), "put-ruleset": 201, "users": 200,
              "delete-bob": 204, "add-webhook": 201, "webhooks": 200},
    "upstream": {"list": 403, "ann": 403, "kpis/ann": 403, "status/ann": 200, "users": 403,
                 "webhooks": 403, "add-webhook": 403,
                 "review/ann": 403, "reviews-of/ann": 403, "quality": 403, "queue": 403,
                 "examples": 403, "sessions": 403},
    "legacy-review-key": {"list": (200, ["ann", "bob"]), "bob": 200, "put-ruleset": 403},
}  # fmt: skip


@pytest.fixture
def world(settings, client) -> dict[str, Any]:
    with session_scope(settings) as session:
        calls = {
            "ann": store_call(session, reference_transcript("billing_refund"), agent_id="ann",
                              team="billing"),
            "bob": store_call(session, reference_transcript("address_change"), agent_id="bob",
                              team="tech"),
        }  # fmt: skip
        score_calls(session, list(calls.values()))
        keys = {}
        for name, (role, teams, agent) in USERS.items():
            create_user(session, name, role, teams=teams, agent_id=agent)
            keys[name] = create_key(session, [], user=name)
        keys["legacy-review-key"] = create_key(session, [Scope.REVIEW])
    return {"client": client, "calls": calls, "keys": keys}


def request(world: dict[str, Any], route: str, headers: dict[str, str]) -> Any:
    client, calls = world["client"], world["calls"]
    period = "from=2000-01-01&to=2100-01-01"
    if route.startswith("list"):
        query = route.partition("?")[2]
        return client.get(f"/v1/calls?{query}", headers=headers)
    if route in ("ann", "bob"):
        return client.get(f"/v1/calls/{calls[route]}", headers=headers)
    if route.endswith("/audio"):
        return client.get(f"/v1/calls/{calls[route.split('/')[0]]}/audio", headers=headers)
    if route.startswith("status/"):
        return client.get(f"/v1/calls/{calls[route.split('/')[1]]}/status", headers=headers)
    if route.startswith("kpis/"):
        return client.get(f"/v1/agents/{route.split('/')[1]}/kpis?{period}", headers=headers)
    if route.startswith("team/"):
        return client.get(f"/v1/teams/{route.split('/')[1]}/kpis?{period}", headers=headers)
    if route.startswith("journal"):
        query = route.partition("?")[2]
        return client.get(f"/v1/reports/kpi-journal?{period}&{query}", headers=headers)
    if route == "leaderboard":
        return client.get(f"/v1/leaderboard?{period}", headers=headers)
    if route == "put-ruleset":
        return client.put("/v1/rulesets/roles", headers=headers, content=RULESET.encode())
    if route == "users":
        return client.get("/v1/users", headers=headers)
    if route == "delete-bob":
        return client.delete(f"/v1/calls/{calls['bob']}", headers=headers)
    if route.startswith("review/"):
        return client.post(f"/v1/calls/{calls[route.split('/')[1]]}/reviews", headers=headers)
    if route.startswith("reviews-of/"):
        return client.get(f"/v1/calls/{calls[route.split('/')[1]]}/reviews", headers=headers)
    if route == "my-queue":
        return client.get("/v1/me/queue", headers=headers)
    if route == "quality":
        return client.get("/v1/rules/quality", headers=headers)
    if route == "queue":
        rule = {"kind": "random_per_agent", "per_agent": 1}
        return client.post("/v1/queues", headers=headers,
                           json={"name": "q", "rule": rule, "reviewers": ["reviewer-all"]})  # fmt: skip
    if route == "webhooks":
        return client.get("/v1/webhooks", headers=headers)
    if route == "add-webhook":
        return client.post("/v1/webhooks", headers=headers,
                           json={"url": "https://example.com/hook", "events": ["call.analyzed"]})  # fmt: skip
    if route == "calibration":
        body = {"name": "c", "calls": list(calls.values()), "reviewers": ["reviewer-all", "lead"]}
        return client.post("/v1/calibrations", headers=headers, json=body)
    if route == "examples":
        return client.get("/v1/coaching/examples?quality=good&rule=empathy", headers=headers)
    if route.startswith("session/"):
        body = {"agent_id": route.split("/")[1], "focus": [{"kpi": "qa_score"}]}
        return client.post("/v1/coaching/sessions", headers=headers, json=body)
    if route == "sessions":
        return client.get("/v1/coaching/sessions", headers=headers)
    raise AssertionError(route)


@pytest.mark.parametrize("who", list(TABLE))
def test_every_role_against_the_routes(world, who):
    headers = {"Authorization": f"Bearer {world['keys'][who]}"}
    names = {cid: name for name, cid in world["calls"].items()}
    for route, expected in TABLE[who].items():
        status, listed = expected if isinstance(expected, tuple) else (expected, None)
        r = request(world, route, headers)
        assert r.status_code == status, f"{who} {route}: {r.status_code} {r.text[:200]}"
        if status >= 400:
            assert r.json()["error"]["code"]
        if listed is not None:
            assert sorted(names[c["id"]] for c in r.json()["calls"]) == listed, (who, route)
        if who == "reviewer-billing" and route == "journal":
            assert {e["team"] for e in r.json()["events"]} == {"billing"}


def test_users_over_http_and_a_key_for_a_user(world):
    client = world["client"]
    admin = {"Authorization": f"Bearer {world['keys']['admin']}"}
    r = client.post("/v1/users", headers=admin, json={"name": "new-coach", "role": "coach",
                                                       "teams": ["tech"]})  # fmt: skip
    assert r.status_code == 201 and r.json()["teams"] == ["tech"]
    assert client.post("/v1/users", headers=admin,
                       json={"name": "new-coach", "role": "coach"}).status_code == 409  # fmt: skip
    assert client.post("/v1/users", headers=admin,
                       json={"name": "x", "role": "agent"}).status_code == 422  # fmt: skip
    key = client.post("/v1/apikeys", headers=admin, json={"user": "new-coach"}).json()["key"]
    listed = client.get("/v1/calls", headers={"Authorization": f"Bearer {key}"}).json()["calls"]
    assert [c["id"] for c in listed] == [world["calls"]["bob"]]
    assert client.post("/v1/apikeys", headers=admin, json={"user": "nobody"}).status_code == 404
