"""A reviewer scores a call beside the machine: draft, answers, comments, submit, audit trail,
and the final score counting everywhere the automatic one did."""

from __future__ import annotations

from tests.support import RULESET, work

PERIOD = "from=2000-01-01&to=2100-01-01"


def test_a_review_from_draft_to_final_score(world):
    client, call, keys = world["client"], world["call"], world["keys"]
    rita = keys["rita"]
    r = client.post(f"/v1/calls/{call}/reviews", headers=rita)
    assert r.status_code == 201, r.text
    review = r.json()
    assert review["status"] == "draft" and review["automatic_score"] == 100.0
    items = {i["key"]: i for i in review["items"]}
    assert list(items) == ["0.0", "1.0", "2.0", "2.1"]
    assert items["2.1"]["automatic"]["passed"] is True and items["2.1"]["answer"] is None
    again = client.post(f"/v1/calls/{call}/reviews", headers=rita)
    assert again.status_code == 200 and again.json()["id"] == review["id"]

    url = f"/v1/reviews/{review['id']}"
    no_reason = client.put(f"{url}/items/2.1", headers=rita, json={"decision": "fail"})
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["error"]["message"]
    unknown = client.put(f"{url}/items/9.9", headers=rita, json={"decision": "accept"})
    assert unknown.status_code == 422 and "not on this call's scorecard" in unknown.text
    overridden = client.put(f"{url}/items/2.1", headers=rita,
                            json={"decision": "fail", "reason": "Goodbye was the customer's"})  # fmt: skip
    assert overridden.status_code == 200
    assert {i["key"]: i for i in overridden.json()["items"]}["2.1"]["answer"]["passed"] is False
    assert client.post(f"{url}/comments", headers=rita,
                       json={"text": "Good empathy here", "utterance": 2}).status_code == 200  # fmt: skip
    assert client.post(f"{url}/comments", headers=rita,
                       json={"text": "x", "start": 5, "end": 2}).status_code == 422  # fmt: skip
    assert (
        client.put(f"{url}/items/0.0", headers=keys["rob"], json={"decision": "accept"}).status_code
        == 404
    )  # not rob's draft

    # Until it is submitted, the automatic score counts.
    row = client.get("/v1/calls?agent_id=ann&status=done", headers=rita).json()["calls"][0]
    assert (row["score"], row["score_source"]) == (100.0, "automatic")

    submitted = client.post(f"{url}/submit", headers=rita)
    assert submitted.status_code == 200, submitted.text
    final = submitted.json()
    assert (
        final["status"] == "submitted"
        and final["score"] == 75.0
        and final["final"]["value"] == 75.0
    )
    assert [e["action"] for e in final["audit"]] == [
        "created",
        "answer 2.1",
        "comment",
        "submitted",
    ]
    assert {e["by"] for e in final["audit"]} == {"rita"}
    assert final["audit"][1]["before"] is None and final["audit"][1]["after"]["passed"] is False

    # Now the final score counts: the list, the KPIs and the document say so.
    row = client.get("/v1/calls?agent_id=ann&status=done", headers=rita).json()["calls"][0]
    assert (row["score"], row["score_source"]) == (75.0, "review")
    kpis = client.get(f"/v1/agents/ann/kpis?{PERIOD}", headers=rita).json()["totals"]
    assert kpis["metrics"]["qa_score"]["mean"] == 75.0
    doc = client.get(f"/v1/calls/{call}", headers=rita).json()
    assert doc["score"]["value"] == 100.0  # the automatic evaluation is never overwritten
    assert doc["score_source"] == "review" and doc["review"]["score"] == 75.0

    late = client.put(f"{url}/items/0.0", headers=rita, json={"decision": "accept"})
    assert late.status_code == 409 and late.json()["error"]["details"]["status"] == "submitted"
    assert client.post(f"{url}/submit", headers=rita).status_code == 409

    # The agent sees the reviews of their own call; reviewing it is a self-review.
    assert client.get(f"/v1/calls/{call}/reviews", headers=keys["ann"]).status_code == 200
    own = client.post(f"/v1/calls/{call}/reviews", headers=keys["ann"])
    assert own.status_code == 201 and own.json()["kind"] == "self"


def test_a_review_outlives_rescoring_and_the_latest_counts(world, settings):
    client, call, keys, admin = world["client"], world["call"], world["keys"], world["admin"]
    rob = keys["rob"]
    review = client.post(f"/v1/calls/{call}/reviews", headers=rob).json()
    client.put(f"/v1/reviews/{review['id']}/items/2.0", headers=rob,
               json={"decision": "fail", "reason": "Rude at 0:40"})  # fmt: skip
    assert client.post(f"/v1/reviews/{review['id']}/submit", headers=rob).json()["critical_fail"]
    failed = client.get("/v1/calls?critical_fail=true", headers=admin).json()["calls"]
    assert [c["id"] for c in failed] == [call]
    # A new ruleset version re-scores the call; the reviewer's final score still counts.
    client.put("/v1/rulesets/billing", headers=admin,
               content=RULESET.replace("great day", "lovely day").encode())  # fmt: skip
    client.post("/v1/rulesets/billing/rescore", headers=admin)
    work(settings)
    row = client.get("/v1/calls?critical_fail=true", headers=admin).json()["calls"]
    assert [(c["id"], c["score_source"]) for c in row] == [(call, "review")]


def test_what_cannot_be_reviewed(world):
    client, keys = world["client"], world["keys"]
    rita = keys["rita"]
    pending = client.post(f"/v1/calls/{world['pending']}/reviews", headers=rita)
    assert pending.status_code == 409 and "queued" in pending.json()["error"]["message"]
    assert client.post("/v1/calls/nope/reviews", headers=rita).status_code == 404
    assert client.get("/v1/reviews/999999", headers=rita).status_code == 404
    assert client.get("/v1/reviews/99999999999", headers=rita).status_code == 422


def test_an_agents_self_review_never_counts(world):
    client, call, keys, admin = world["client"], world["call"], world["keys"], world["admin"]
    ann = keys["ann"]
    review = client.post(f"/v1/calls/{call}/reviews", headers=ann)
    assert review.status_code == 201 and review.json()["kind"] == "self"
    url = f"/v1/reviews/{review.json()['id']}"
    client.put(f"{url}/items/0.0", headers=ann, json={"decision": "fail", "reason": "Too fast"})
    assert client.post(f"{url}/submit", headers=ann).json()["score"] < 100
    row = client.get("/v1/calls?status=done", headers=admin).json()["calls"][0]
    assert (row["score"], row["score_source"]) == (100.0, "automatic")
    assert client.get("/v1/calls?reviewed=true", headers=admin).json()["calls"] == []
    assert (
        client.post(
            f"{url}/dispute", headers=ann, json={"items": ["0.0"], "comment": "x"}
        ).status_code
        == 409
    )
    assert client.post(f"/v1/calls/{world['pending']}/reviews", headers=ann).status_code == 409
