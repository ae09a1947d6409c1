"""A submitted review is a record: submit saves what it carries, all or none; looking again is a
re-evaluation (a lead's, or the same reviewer's, with a reason) that keeps the old version,
resets the agent's answer and tells the webhooks; the audit trail reads as sentences."""

from __future__ import annotations

from sqlalchemy import select

from speechqa.apikeys import authenticate
from speechqa.reviews import reading, workflow
from speechqa.storage.database import session_scope
from speechqa.storage.tables import WebhookMessage
from tests.support import register_webhook

PERIOD = "from=2000-01-01&to=2100-01-01"


def _score(client, headers) -> tuple[float, str]:
    row = client.get("/v1/calls?agent_id=ann&status=done", headers=headers).json()["calls"][0]
    return row["score"], row["score_source"]


def test_submit_saves_the_answers_it_carries_or_none(world):
    client, call, rita = world["client"], world["call"], world["keys"]["rita"]
    review = client.post(f"/v1/calls/{call}/reviews", headers=rita).json()
    url = f"/v1/reviews/{review['id']}"
    refused = client.post(f"{url}/submit", headers=rita, json={"answers": {
        "2.1": {"decision": "fail", "reason": "The customer said goodbye"},
        "0.0": {"decision": "fail"}, "1.0": {"decision": "na", "reason": " "}}})  # fmt: skip
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["details"]["items"] == ["0.0", "1.0"]
    assert "0.0 Greeting" in error["message"] and "Nothing was saved" in error["message"]
    still = client.get(url, headers=rita).json()
    assert still["status"] == "draft" and all(i["answer"] is None for i in still["items"])
    assert [e["action"] for e in still["audit"]] == ["created"]

    unknown = client.post(f"{url}/submit", headers=rita,
                          json={"answers": {"7.7": {"decision": "accept"}}})  # fmt: skip
    assert unknown.status_code == 422 and client.get(url, headers=rita).json()["status"] == "draft"

    done = client.post(f"{url}/submit", headers=rita, json={"answers": {
        "2.1": {"decision": "fail", "reason": "The customer said goodbye"},
        "0.0": {"decision": "accept"}}})  # fmt: skip
    assert done.status_code == 200, done.text
    final = done.json()
    assert final["status"] == "submitted" and final["score"] == 75.0
    # Only the change is written: accepting what stood already is no event.
    assert [e["action"] for e in final["audit"]] == ["created", "answer 2.1", "submitted"]
    assert _score(client, rita) == (75.0, "review")


def test_a_re_evaluation_is_a_new_version_that_keeps_the_old_one(world, settings):
    register_webhook(settings, ["review.submitted", "review.updated"])
    client, call, keys = world["client"], world["call"], world["keys"]
    rita, rob, lee, ann = keys["rita"], keys["rob"], keys["lee"], keys["ann"]
    early = client.post(f"/v1/calls/{call}/reviews", headers=rob).json()  # a draft, begun first
    first = client.post(f"/v1/calls/{call}/reviews", headers=rita).json()
    assert client.post(f"/v1/reviews/{first['id']}/submit", headers=rita, json={"answers": {
        "2.1": {"decision": "fail", "reason": "No closing"}}}).status_code == 200  # fmt: skip
    assert client.post(f"/v1/reviews/{first['id']}/acknowledge", headers=ann).status_code == 200

    # rob's draft would silently replace rita's: refused, naming her.
    late = client.post(f"/v1/reviews/{early['id']}/submit", headers=rob)
    assert late.status_code == 409 and "rita submitted a review" in late.json()["error"]["message"]
    # Another reviewer cannot start a second review; rita and a lead can, with a reason.
    other = client.post(f"/v1/calls/{call}/reviews", headers=keys["rob"], json={"reason": "x"})
    assert other.status_code == 409
    assert other.json()["error"]["details"] == {"review_id": first["id"], "reviewer": "rita",
                                                "status": "acknowledged"}  # fmt: skip
    assert "only a lead or rita may re-evaluate" in other.json()["error"]["message"]
    bare = client.post(f"/v1/calls/{call}/reviews", headers=lee)
    assert bare.status_code == 409 and "needs a reason" in bare.json()["error"]["message"]
    assert _score(client, rita) == (75.0, "review")

    again = client.post(f"/v1/calls/{call}/reviews", headers=lee,
                        json={"reason": "Closing is in the last utterance"})  # fmt: skip
    assert again.status_code == 201, again.text
    draft = again.json()
    assert draft["revises"] == first["id"]
    assert draft["revision_reason"] == "Closing is in the last utterance"
    assert _score(client, rita) == (75.0, "review")  # a draft changes nothing yet
    submitted = client.post(f"/v1/reviews/{draft['id']}/submit", headers=lee).json()
    assert submitted["status"] == "submitted" and submitted["score"] == 100.0

    reviews = {r["id"]: r for r in client.get(f"/v1/calls/{call}/reviews", headers=rita).json()}
    old = reviews[first["id"]]
    assert old["status"] == "superseded" and old["superseded_by"] == draft["id"]
    assert old["score"] == 75.0 and [e["action"] for e in old["audit"]][-1] == "superseded"
    assert _score(client, rita) == (100.0, "review")
    kpis = client.get(f"/v1/agents/ann/kpis?{PERIOD}", headers=rita).json()["totals"]
    assert kpis["metrics"]["qa_score"]["mean"] == 100.0
    # The agent's acknowledgement was of the old version: the new one awaits her.
    assert client.post(f"/v1/reviews/{first['id']}/acknowledge", headers=ann).status_code == 409
    assert client.post(f"/v1/reviews/{draft['id']}/acknowledge", headers=ann).status_code == 200

    with session_scope(settings) as session:
        sent = {m.event: m.payload["data"] for m in session.scalars(select(WebhookMessage))}
    updated = sent["review.updated"]
    assert (updated["review_id"], updated["revises"]) == (draft["id"], first["id"])
    assert (updated["score"], updated["previous_score"]) == (100.0, 75.0)
    assert updated["previous_status"] == "acknowledged" and updated["status"] == "submitted"
    assert updated["reason"] == "Closing is in the last utterance"

    # rob's stale draft cannot be submitted over lee's either; lee may look yet again.
    assert client.post(f"/v1/reviews/{early['id']}/submit", headers=rob).status_code == 409
    third = client.post(f"/v1/calls/{call}/reviews", headers=lee, json={"reason": "Once more"})
    assert third.status_code == 201 and third.json()["revises"] == draft["id"]


def test_no_re_evaluation_while_the_agent_disputes(world):
    client, call, keys = world["client"], world["call"], world["keys"]
    rita, lee, ann = keys["rita"], keys["lee"], keys["ann"]
    first = client.post(f"/v1/calls/{call}/reviews", headers=rita).json()
    client.post(f"/v1/reviews/{first['id']}/submit", headers=rita)
    pending = client.post(f"/v1/calls/{call}/reviews", headers=rita,
                          json={"reason": "I misheard"}).json()  # fmt: skip
    assert pending["revises"] == first["id"]  # the same reviewer may
    assert client.post(f"/v1/reviews/{first['id']}/dispute", headers=ann,
                       json={"items": ["0.0"], "comment": "I did greet"}).status_code == 200  # fmt: skip
    refused = client.post(f"/v1/calls/{call}/reviews", headers=lee, json={"reason": "Check"})
    assert (
        refused.status_code == 409 and "resolve the dispute" in refused.json()["error"]["message"]
    )
    # A draft begun before the dispute cannot be submitted over it either.
    blocked = client.post(f"/v1/reviews/{pending['id']}/submit", headers=rita)
    assert blocked.status_code == 409 and "disputed" in blocked.json()["error"]["message"]
    client.post(f"/v1/reviews/{first['id']}/resolve", headers=lee,
                json={"outcome": "upheld", "reason": "The review stands"})  # fmt: skip
    assert client.post(f"/v1/reviews/{pending['id']}/submit", headers=rita).status_code == 200


def test_the_audit_trail_reads_as_sentences(world, settings):
    client, call, keys = world["client"], world["call"], world["keys"]
    rita, lee, ann = keys["rita"], keys["lee"], keys["ann"]
    first = client.post(f"/v1/calls/{call}/reviews", headers=rita).json()
    url = f"/v1/reviews/{first['id']}"
    client.put(f"{url}/items/1.0", headers=rita,
               json={"decision": "fail", "reason": "No empathy shown"})  # fmt: skip
    client.post(f"{url}/comments", headers=rita, json={"text": "Good empathy", "utterance": 2})
    client.post(f"{url}/submit", headers=rita)
    client.post(f"{url}/dispute", headers=ann, json={"items": ["1.0"], "comment": "I said sorry"})
    client.post(f"{url}/resolve", headers=lee, json={
        "outcome": "adjusted", "reason": "She said sorry at 0:20",
        "answers": {"1.0": {"decision": "accept"}}})  # fmt: skip
    with session_scope(settings) as session:
        principal = authenticate(session, rita["Authorization"].removeprefix("Bearer "))
        review = workflow.get(session, first["id"], principal)
    lines = [(line.by, line.text) for line in reading.audit(review)]
    assert lines == [
        ("rita", "started the review"),
        ("rita", "overrode 1.0 Empathy: machine pass → fail — “No empathy shown”"),
        ("rita", "commented on utterance 2 — “Good empathy”"),
        ("rita", "submitted the review: final score 75"),
        ("ann", "disputed 1.0 Empathy — “I said sorry”"),
        ("lee", "resolved the dispute: adjusted (1.0 Empathy → the machine's pass), "
                "score 75 → 100 — “She said sorry at 0:20”"),
    ]  # fmt: skip
