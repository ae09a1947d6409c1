"""Finding calls: full-text search with the database's own engine, new filters, sorting, paging.

The calls are the four sample calls' reference transcripts, stored and scored as the worker
leaves them, with their sentiment read by the shipped model; every search runs on SQLite (FTS5)
and on PostgreSQL (tsvector + GIN).
"""

from __future__ import annotations

from typing import Any

import pytest

from speechqa.apikeys import Scope
from speechqa.pipeline.sentiment import load_model, score_utterances
from speechqa.scoring import score_calls
from speechqa.storage.database import session_scope
from speechqa.storage.tables import Call, CallStats
from tests.support import key_for, reference_transcript, store_call

NAMES = ["address_change", "angry_to_satisfied", "billing_refund", "internet_outage"]


@pytest.fixture
def calls(settings, client) -> tuple[Any, dict[str, str], dict[str, str]]:
    model = load_model()
    ids = {}
    with session_scope(settings) as session:
        for i, name in enumerate(NAMES):
            transcript = reference_transcript(name)
            transcript = type(transcript)(**{**transcript.__dict__,
                                             "utterances": score_utterances(model, transcript.utterances)})  # fmt: skip
            ids[name] = store_call(session, transcript, agent_id=f"agent-{i % 2}")
        session.get(Call, ids["billing_refund"]).tags = ["billing", "refund"]  # type: ignore[union-attr]
        score_calls(session, list(ids.values()))
    return client, key_for(settings, Scope.REVIEW), ids


def found(client, headers, query: str) -> dict[str, dict[str, Any]]:
    r = client.get(f"/v1/calls?{query}", headers=headers)
    assert r.status_code == 200, r.text
    return {row["id"]: row for row in r.json()["calls"]}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ('"charged twice"', ["billing_refund"]),
        ("refunds", ["angry_to_satisfied", "billing_refund"]),  # stemmed: refund, refunded
        ("addr*", ["address_change", "internet_outage"]),  # a prefix: address
        ("acme refund", ["angry_to_satisfied", "billing_refund"]),  # every term, anywhere
        ('refund "date of birth"', []),
        ("thank", NAMES),
        ("') OR 1=1 --", []),
        ('NEAR(charged twice) AND "', []),
    ],
)
def test_search_finds_the_calls_holding_every_term(calls, q, expected):
    client, headers, ids = calls
    from urllib.parse import quote

    hits = found(client, headers, f"q={quote(q)}")
    assert sorted(hits) == sorted(ids[n] for n in expected)


def test_a_match_gives_the_utterance_its_times_and_marked_words(calls):
    client, headers, _ = calls
    (row,) = found(client, headers, "q=%22charged%20twice%22").values()
    (match,) = row["matches"]
    assert match["speaker"] == "customer" and 0 < match["start"] < match["end"] < 30
    assert "charged" in match["text"] and "<mark>" in match["text"]
    assert "<mark>" not in match["text"].replace("<mark>charged", "").replace("<mark>twice", "")


@pytest.mark.parametrize(
    "q", ['""', "   ", "*", "?!", "*:* || \\", "x" * 501, " ".join(["w"] * 11)]
)
def test_a_search_without_words_or_too_long_is_422(calls, q):
    client, headers, _ = calls
    r = client.get("/v1/calls", params={"q": q}, headers=headers)
    assert r.status_code == 422, r.text


def test_filters_by_sentiment_tag_and_missed_rule(settings, calls):
    client, headers, ids = calls
    with session_scope(settings) as session:
        stats = {s.call_id: s for s in session.query(CallStats)}
    bands = {}
    for band in ("negative", "neutral", "positive"):
        bands[band] = found(client, headers, f"customer_sentiment={band}")
        for cid in bands[band]:
            mood = stats[cid].values["customer_sentiment"]
            assert {"negative": mood < -0.2, "neutral": -0.2 <= mood < 0.2,
                    "positive": mood >= 0.2}[band]  # fmt: skip
    assert sum(len(b) for b in bands.values()) == len(ids)
    assert list(found(client, headers, "tag=refund")) == [ids["billing_refund"]]
    missed = {cid for cid, s in stats.items() if "empathy" not in s.rules_hit}
    assert set(found(client, headers, "rule_missed=empathy")) == missed
    assert set(found(client, headers, "rule=empathy")) == set(ids.values()) - missed
    assert client.get("/v1/calls?customer_sentiment=angry", headers=headers).status_code == 422


def test_sorting_and_paging_by_a_column(settings, calls):
    client, headers, ids = calls
    with session_scope(settings) as session:
        durations = {c.id: c.duration_s for c in session.query(Call)}
    ascending = list(found(client, headers, "sort=duration&order=asc"))
    assert ascending == sorted(ids.values(), key=lambda c: durations[c])
    first = client.get("/v1/calls?sort=score&order=desc&limit=3", headers=headers).json()
    second = client.get(f"/v1/calls?sort=score&order=desc&limit=3&cursor={first['next_cursor']}",
                        headers=headers).json()  # fmt: skip
    scores = [c["score"] for c in first["calls"] + second["calls"]]
    assert scores == sorted(scores, reverse=True) and len(scores) == 4
    assert not {c["id"] for c in first["calls"]} & {c["id"] for c in second["calls"]}
    assert client.get("/v1/calls?sort=agent", headers=headers).status_code == 422
