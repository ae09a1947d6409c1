"""The agent acknowledges or disputes a submitted review; a lead settles a dispute."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from speechqa.storage.database import session_scope
from speechqa.storage.tables import Review, utcnow

PERIOD = "from=2000-01-01&to=2100-01-01"


def submitted_review(world: dict[str, Any]) -> str:
    client, call, rita = world["client"], world["call"], world["keys"]["rita"]
    review = client.post(f"/v1/calls/{call}/reviews", headers=rita).json()
    url = f"/v1/reviews/{review['id']}"
    client.put(f"{url}/items/2.1", headers=rita,
               json={"decision": "fail", "reason": "No closing phrase"})  # fmt: skip
    assert client.post(f"{url}/submit", headers=rita).json()["score"] == 75.0
    return url


def test_dispute_and_adjustment(world):
    client, keys = world["client"], world["keys"]
    url = submitted_review(world)
    assert client.post(f"{url}/dispute", headers=keys["rob"],
                       json={"items": ["2.1"], "comment": "x"}).status_code == 403  # fmt: skip
    bad = client.post(
        f"{url}/dispute", headers=keys["ann"], json={"items": ["7.7"], "comment": "x"}
    )
    assert bad.status_code == 422
    disputed = client.post(f"{url}/dispute", headers=keys["ann"],
                           json={"items": ["2.1"], "comment": "I said goodbye at 1:05"})  # fmt: skip
    assert disputed.status_code == 200 and disputed.json()["status"] == "disputed"
    assert disputed.json()["dispute"]["by"] == "ann"
    twice = client.post(
        f"{url}/dispute", headers=keys["ann"], json={"items": ["2.1"], "comment": "x"}
    )
    assert twice.status_code == 409 and twice.json()["error"]["details"]["status"] == "disputed"
    assert client.post(f"{url}/acknowledge", headers=keys["ann"]).status_code == 409
    assert client.post(f"{url}/resolve", headers=keys["rita"],
                       json={"outcome": "upheld", "reason": "x"}).status_code == 403  # fmt: skip

    resolved = client.post(f"{url}/resolve", headers=keys["lee"], json={
        "outcome": "adjusted", "reason": "The agent did close the call",
        "answers": {"2.1": {"decision": "accept"}}})  # fmt: skip
    assert resolved.status_code == 200, resolved.text
    body = resolved.json()
    assert body["status"] == "resolved" and body["score"] == 100.0
    assert body["resolution"]["outcome"] == "adjusted" and body["resolution"]["by"] == "lee"
    assert [e["action"] for e in body["audit"]][-2:] == ["disputed", "resolved (adjusted)"]
    kpis = client.get(f"/v1/agents/ann/kpis?{PERIOD}", headers=keys["ann"]).json()["totals"]
    assert kpis["metrics"]["qa_score"]["mean"] == 100.0
    again = client.post(
        f"{url}/resolve", headers=keys["lee"], json={"outcome": "upheld", "reason": "x"}
    )
    assert again.status_code == 409


def test_acknowledged_reviews_cannot_be_disputed_or_resolved(world):
    client, keys = world["client"], world["keys"]
    url = submitted_review(world)
    assert client.post(f"{url}/acknowledge", headers=keys["ann"]).json()["status"] == "acknowledged"
    assert client.post(f"{url}/dispute", headers=keys["ann"],
                       json={"items": ["2.1"], "comment": "late"}).status_code == 409  # fmt: skip
    resolve = client.post(f"{url}/resolve", headers=keys["lee"],
                          json={"outcome": "upheld", "reason": "x"})  # fmt: skip
    assert resolve.status_code == 409 and "acknowledged" in resolve.json()["error"]["message"]


def test_a_late_dispute_is_refused(world, settings):
    client, keys = world["client"], world["keys"]
    url = submitted_review(world)
    with session_scope(settings) as session:
        review = session.get(Review, int(url.rsplit("/", 1)[1]))
        assert review is not None
        review.submitted_at = utcnow() - timedelta(days=settings.dispute_days + 1)
    late = client.post(
        f"{url}/dispute", headers=keys["ann"], json={"items": ["2.1"], "comment": "x"}
    )
    assert late.status_code == 409 and "closed" in late.json()["error"]["message"]


def test_the_call_list_finds_reviewed_disputed_and_by_reviewer(world):
    client, keys, call, admin = world["client"], world["keys"], world["call"], world["admin"]

    def ids(query: str) -> list[str]:
        r = client.get(f"/v1/calls?status=done&{query}", headers=admin)
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["calls"]]

    assert ids("reviewed=true") == [] and ids("reviewed=false") == [call]
    url = submitted_review(world)
    assert ids("reviewed=true") == [call] and ids("reviewed=false") == []
    assert ids("reviewer=rita") == [call] and ids("reviewer=rob") == []
    assert ids("disputed=true") == []
    client.post(f"{url}/dispute", headers=keys["ann"], json={"items": ["2.1"], "comment": "no"})
    assert ids("disputed=true") == [call]
    client.post(f"{url}/resolve", headers=keys["lee"], json={"outcome": "upheld", "reason": "ok"})
    assert ids("disputed=true") == [] and ids("disputed=false") == [call]
