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


@pytest.fixture
def teams(settings, client) -> dict[str, Any]:
    """Billing, support and no-team calls; billing and support people, and unlimited ones."""
    with session_scope(settings) as session:
        calls: dict[str, list[str]] = {"billing": [], "support": [], "none": []}
        for team, agent in (("billing", "b-1"), ("billing", "b-2"), ("support", "s-1"),
                            ("none", "n-1")):  # fmt: skip
            for name in NAMES:
                cid = store_call(session, reference_transcript(name), agent_id=agent,
                                 team=None if team == "none" else team)  # fmt: skip
                calls[team].append(cid)
        score_calls(session, [c for ids in calls.values() for c in ids])
        keys = {}
        for user, role, limited in (("lena", "lead", ["billing"]), ("rita", "reviewer", ["billing"]),
                                    ("rob", "reviewer", ["billing"]), ("sue", "reviewer", ["support"]),
                                    ("una", "reviewer", []), ("lee", "lead", []),
                                    ("ann", "agent", [])):  # fmt: skip
            create_user(session, user, role, teams=limited,
                        agent_id="b-1" if role == "agent" else None)  # fmt: skip
            keys[user] = {"Authorization": f"Bearer {create_key(session, [], user=user)}"}
    return {"client": client, "calls": calls, "keys": keys}


def _review(client, keys, who: str, call_id: str, *, submit: bool) -> None:
    review = client.post(f"/v1/calls/{call_id}/reviews", headers=keys[who])
    assert review.status_code == 201, review.text
    if submit:
        done = client.post(f"/v1/reviews/{review.json()['id']}/submit", headers=keys[who])
        assert done.status_code == 200, done.text


def test_a_queue_deals_only_calls_its_reviewer_sees_and_has_not_reviewed(teams):
    client, keys, calls = teams["client"], teams["keys"], teams["calls"]
    billing = calls["billing"]
    _review(client, keys, "rita", billing[0], submit=False)  # a draft of hers
    _review(client, keys, "rob", billing[1], submit=True)
    _review(client, keys, "rob", billing[2], submit=False)  # both have reviewed this one
    _review(client, keys, "rita", billing[2], submit=True)  # (his draft begun before she submitted)

    body = {"name": "billing weekly", "reviewers": ["rita", "rob"],
            "rule": {"kind": "random_per_agent", "per_agent": 5, "days": 7}}  # fmt: skip
    queue = client.post("/v1/queues", headers=keys["lena"], json=body).json()
    assert queue["rule"]["teams"] == ["billing"]
    dealt = client.post(f"/v1/queues/{queue['id']}/sample", headers=keys["lena"]).json()["sampled"]
    # Every billing call but the one both reviewed; no support call and no call of no team.
    assert sorted(a["call_id"] for a in dealt) == sorted(set(billing) - {billing[2]})
    to = {a["call_id"]: a["assignee"] for a in dealt}
    assert to[billing[0]] == "rob" and to[billing[1]] == "rita"
    for call_id, reviewer in to.items():
        assert client.get(f"/v1/calls/{call_id}", headers=keys[reviewer]).status_code == 200
    assert sorted(to.values()).count("rita") >= 2 and sorted(to.values()).count("rob") >= 2
    mine = client.get("/v1/me/queue", headers=keys["rita"]).json()["items"]
    assert {i["call_id"] for i in mine} == {c for c, r in to.items() if r == "rita"}
    assert all(i["score"] is not None and i["duration_s"] for i in mine)

    # A queue of every team, from a lead who sees them all: support and no-team calls go only to
    # the reviewer who sees every team; billing calls to both in turn.
    everyone = {"name": "everyone", "reviewers": ["rita", "una"],
                "rule": {"kind": "random_per_agent", "per_agent": 5, "days": 7}}  # fmt: skip
    queue = client.post("/v1/queues", headers=keys["lee"], json=everyone).json()
    dealt = client.post(f"/v1/queues/{queue['id']}/sample", headers=keys["lee"]).json()["sampled"]
    to = {a["call_id"]: a["assignee"] for a in dealt}
    for call_id in calls["support"] + calls["none"]:
        assert to[call_id] == "una"
    assert billing[0] not in to or to[billing[0]] == "una"  # rita has a draft of it
    assert to[billing[2]] == "una"
    for call_id, reviewer in to.items():
        assert client.get(f"/v1/calls/{call_id}", headers=keys[reviewer]).status_code == 200
    assert "rita" in to.values()


def test_a_limited_lead_names_only_reviewers_and_calls_of_their_teams(teams):
    client, keys = teams["client"], teams["keys"]
    rule = {"kind": "random_per_agent", "per_agent": 1}
    for reviewers, status, words in ((["sue"], 422, "sees none of this queue's teams"),
                                     (["ann"], 422, "cannot work a review queue"),
                                     (["rita", "nobody"], 422, "No user nobody")):  # fmt: skip
        r = client.post("/v1/queues", headers=keys["lena"],
                        json={"name": "q", "rule": rule, "reviewers": reviewers})  # fmt: skip
        assert r.status_code == status and words in r.json()["error"]["message"], r.text
    support = {"kind": "filter", "filters": {"team": "support"}, "limit": 5}
    r = client.post("/v1/queues", headers=keys["lena"],
                    json={"name": "q", "rule": support, "reviewers": ["rita"]})  # fmt: skip
    assert r.status_code == 404
    # An unlimited lead's filter queue over support cannot name a billing reviewer either.
    r = client.post("/v1/queues", headers=keys["lee"],
                    json={"name": "q", "rule": support, "reviewers": ["rita"]})  # fmt: skip
    assert r.status_code == 422
    r = client.post("/v1/queues", headers=keys["lee"],
                    json={"name": "q", "rule": support, "reviewers": ["sue", "una"]})  # fmt: skip
    dealt = client.post(f"/v1/queues/{r.json()['id']}/sample", headers=keys["lee"]).json()
    assert {a["team"] for a in dealt["sampled"]} == {"support"}
    assert (
        client.post(f"/v1/queues/{r.json()['id']}/sample", headers=keys["lena"]).status_code == 404
    )
    # A billing lead sampling a filter queue of every team gets only what they see.
    r = client.post("/v1/queues", headers=keys["lena"],
                    json={"name": "low", "reviewers": ["rita"],
                          "rule": {"kind": "filter", "filters": {"max_score": 100}}})  # fmt: skip
    dealt = client.post(f"/v1/queues/{r.json()['id']}/sample", headers=keys["lena"]).json()
    assert dealt["sampled"] and {a["team"] for a in dealt["sampled"]} == {"billing"}


def test_a_lead_reads_each_reviewers_progress(teams):
    client, keys = teams["client"], teams["keys"]
    body = {"name": "billing", "reviewers": ["rita", "rob"],
            "rule": {"kind": "filter", "filters": {"team": "billing"}, "limit": 6}}  # fmt: skip
    queue = client.post("/v1/queues", headers=keys["lena"], json=body).json()["id"]
    dealt = client.post(f"/v1/queues/{queue}/sample", headers=keys["lena"]).json()["sampled"]
    assert len(dealt) == 6
    ritas = [a["call_id"] for a in dealt if a["assignee"] == "rita"]
    _review(client, keys, "rita", ritas[0], submit=True)
    _review(client, keys, "rita", ritas[1], submit=False)
    mine = client.get("/v1/me/queue", headers=keys["rita"]).json()["items"]
    assert [i["review"] for i in mine if i["call_id"] == ritas[1]] == ["draft"]
    assert ritas[0] not in {i["call_id"] for i in mine}

    progress = client.get(f"/v1/queues/{queue}/progress", headers=keys["lena"])
    assert progress.status_code == 200, progress.text
    per = {p["reviewer"]: p for p in progress.json()["reviewers"]}
    assert per["rita"] == {"reviewer": "rita", "dealt": 3, "reviewed": 1, "in_progress": 1,
                           "remaining": 2, "out_of_reach": 0}  # fmt: skip
    assert per["rob"]["dealt"] == 3 and per["rob"]["remaining"] == 3
    assert progress.json()["reviewed"] == 1 and progress.json()["remaining"] == 5
    assert client.get(f"/v1/queues/{queue}/progress", headers=keys["rita"]).status_code == 403
    assert client.get(f"/v1/queues/{queue}/progress", headers=keys["lee"]).status_code == 200


def test_a_call_with_nothing_to_review_is_never_dealt(teams, settings):
    client, keys = teams["client"], teams["keys"]
    with session_scope(settings) as session:  # done, but its ruleset scored nothing yet
        bare = store_call(session, reference_transcript(NAMES[0]), agent_id="b-9", team="billing")
    body = {"name": "everything", "reviewers": ["rita"],
            "rule": {"kind": "random_per_agent", "per_agent": 10, "days": 30}}  # fmt: skip
    queue = client.post("/v1/queues", headers=keys["lena"], json=body).json()["id"]
    dealt = client.post(f"/v1/queues/{queue}/sample", headers=keys["lena"]).json()["sampled"]
    assert dealt and bare not in {a["call_id"] for a in dealt}
    added = client.post(f"/v1/queues/{queue}/calls", headers=keys["lena"], json={"calls": [bare]})
    assert added.status_code == 200, added.text
    assert added.json()["changed"] == []
    assert added.json()["skipped"] == [
        {"call_id": bare, "reason": "its ruleset has no scorecard to review"}
    ]
