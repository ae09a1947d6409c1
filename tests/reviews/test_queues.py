"""Review queues: sampling by rule, never twice, dealt in turn, and each reviewer's queue."""

from __future__ import annotations

from typing import Any

import pytest

from speechqa.apikeys import create_key
from speechqa.scoring import score_calls
from speechqa.storage.database import session_scope
from speechqa.users import create_user
from tests.support import reference_transcript, store_call

NAMES = ["address_change", "billing_refund", "internet_outage"]


@pytest.fixture
def floor(settings, client) -> dict[str, Any]:
    """Three agents with three analysed calls each, two reviewers and a lead."""
    with session_scope(settings) as session:
        calls = {}
        for a in range(3):
            for name in NAMES:
                cid = store_call(session, reference_transcript(name), agent_id=f"agent-{a}",
                                 team="sales")  # fmt: skip
                calls[cid] = f"agent-{a}"
        score_calls(session, list(calls))
        keys = {}
        for user, role in (("rita", "reviewer"), ("rob", "reviewer"), ("lee", "lead")):
            create_user(session, user, role)
            keys[user] = {"Authorization": f"Bearer {create_key(session, [], user=user)}"}
    return {"client": client, "calls": calls, "keys": keys}


def test_random_calls_per_agent_dealt_in_turn_never_twice(floor):
    client, keys, calls = floor["client"], floor["keys"], floor["calls"]
    body = {"name": "weekly", "rule": {"kind": "random_per_agent", "per_agent": 2, "days": 7},
            "reviewers": ["rita", "rob"]}  # fmt: skip
    assert client.post("/v1/queues", headers=keys["rita"], json=body).status_code == 403
    created = client.post("/v1/queues", headers=keys["lee"], json=body)
    assert created.status_code == 201, created.text
    assert client.post("/v1/queues", headers=keys["lee"], json=body).status_code == 409
    queue = created.json()["id"]

    first = client.post(f"/v1/queues/{queue}/sample", headers=keys["lee"]).json()["sampled"]
    assert len(first) == 6
    per_agent: dict[str, int] = {}
    for item in first:
        per_agent[calls[item["call_id"]]] = per_agent.get(calls[item["call_id"]], 0) + 1
        assert item["rule"] == {"kind": "random_per_agent", "per_agent": 2, "days": 7}
    assert per_agent == {"agent-0": 2, "agent-1": 2, "agent-2": 2}
    second = client.post(f"/v1/queues/{queue}/sample", headers=keys["lee"]).json()["sampled"]
    third = client.post(f"/v1/queues/{queue}/sample", headers=keys["lee"]).json()["sampled"]
    picked = [i["call_id"] for i in first + second + third]
    assert len(second) == 3 and third == [] and sorted(picked) == sorted(calls)

    mine = client.get("/v1/me/queue", headers=keys["rita"]).json()["items"]
    his = client.get("/v1/me/queue", headers=keys["rob"]).json()["items"]
    assert sorted(i["call_id"] for i in mine + his) == sorted(calls)
    assert abs(len(mine) - len(his)) <= 1

    # A call leaves the queue once its reviewer has submitted a review of it.
    done = mine[0]["call_id"]
    review = client.post(f"/v1/calls/{done}/reviews", headers=keys["rita"]).json()
    client.post(f"/v1/reviews/{review['id']}/submit", headers=keys["rita"])
    after = [i["call_id"] for i in client.get("/v1/me/queue", headers=keys["rita"]).json()["items"]]
    assert done not in after and len(after) == len(mine) - 1


def test_a_targeted_queue_and_bad_rules(floor):
    client, lee = floor["client"], floor["keys"]["lee"]
    targeted = {"name": "agent-0", "reviewers": ["rob"],
                "rule": {"kind": "filter", "filters": {"agent_id": "agent-0"}, "limit": 2}}  # fmt: skip
    queue = client.post("/v1/queues", headers=lee, json=targeted).json()["id"]
    sampled = client.post(f"/v1/queues/{queue}/sample", headers=lee).json()["sampled"]
    assert len(sampled) == 2 and {s["agent_id"] for s in sampled} == {"agent-0"}
    assert {s["call_id"] for s in sampled} & {
        s["call_id"]
        for s in client.post(f"/v1/queues/{queue}/sample", headers=lee).json()["sampled"]
    } == set()
    for rule, reviewers in (
        ({"kind": "everything"}, ["rob"]),
        ({"kind": "filter", "filters": {"password": "x"}}, ["rob"]),
        ({"kind": "random_per_agent", "per_agent": 0}, ["rob"]),
        ({"kind": "random_per_agent"}, ["nobody"]),
    ):
        r = client.post("/v1/queues", headers=lee, json={"name": "x", "rule": rule,
                                                        "reviewers": reviewers})  # fmt: skip
        assert r.status_code == 422, (rule, r.text)
    assert client.post("/v1/queues/99999/sample", headers=lee).status_code == 404
