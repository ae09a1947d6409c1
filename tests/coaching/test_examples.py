"""A coach pulls good and bad examples of a rule, an item or a KPI from analysed calls: the
right moments, clearest first, reviewer-confirmed on top, agents varied, others' teams hidden."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from speechqa.apikeys import Principal, Scope
from speechqa.coaching.examples import ExampleQuery, find
from speechqa.contracts import Transcript, Utterance, Word
from speechqa.errors import Forbidden, InvalidInput, NotFound
from speechqa.reviews import workflow
from speechqa.scoring import score_calls
from speechqa.storage.database import session_scope
from tests.support import reference_transcript, store_call

COACH = Principal(1, "coach", frozenset({Scope.COACH, Scope.REVIEW}), user="carla")
REVIEWER = Principal(2, "rev", frozenset({Scope.REVIEW}), user="rita")
T0 = datetime(2026, 10, 1, 9, tzinfo=UTC)


def _said(transcript: Transcript, idx: int, text: str, probability: float = 0.9) -> Transcript:
    """``transcript`` with turn ``idx`` saying ``text`` instead."""
    turn = transcript.utterances[idx]
    tokens = text.split()
    step = (turn.end - turn.start) / len(tokens)
    words = [Word(t, turn.start + k * step, turn.start + (k + 1) * step, probability)
             for k, t in enumerate(tokens)]  # fmt: skip
    turns = list(transcript.utterances)
    turns[idx] = Utterance(turn.id, turn.speaker, turn.start, turn.end, text, words)
    return replace(transcript, utterances=turns)


def _confidence(transcript: Transcript, probability: float) -> Transcript:
    turns = [replace(u, words=[replace(w, probability=probability) for w in u.words])
             for u in transcript.utterances]  # fmt: skip
    return replace(transcript, utterances=turns)


def _store(settings, calls):
    """Store and score (agent, team, transcript) calls an hour apart, oldest first."""
    ids = []
    with session_scope(settings) as session:
        for n, (agent, team, transcript) in enumerate(calls):
            ids.append(store_call(session, transcript, agent_id=agent, team=team,
                                  started_at=T0 + timedelta(hours=n)))  # fmt: skip
        score_calls(session, ids)
    return ids


def _find(settings, principal=COACH, **query):
    with session_scope(settings) as session:
        return find(session, principal, ExampleQuery(**query))


def test_good_examples_of_a_rule_play_the_turn_that_said_it(settings):
    billing = reference_transcript("billing_refund")
    ids = _store(settings, [("ann", "north", billing),
                            ("bob", "north", reference_transcript("address_change"))])  # fmt: skip
    found = _find(settings, quality="good", rule="empathy")
    assert found, "the billing call's agent says 'I am sorry to hear that'"
    first = found[0]
    assert first.call_id == ids[0] and first.speaker == "agent"
    # The whole turn holding the hit: it plays by itself in a session.
    assert (first.start, first.end) == (14.14, 21.28)
    assert "sorry to hear that" in first.text
    assert "'empathy' said" in first.reason and "word confidence 0.90" in first.reason
    assert first.confirmed is False and first.confidence == 0.9


def test_bad_examples_play_where_the_missed_rule_belonged(settings):
    billing = reference_transcript("billing_refund")
    # The closing turn says something else: the closing rule misses.
    no_closing = _said(billing, 12, "Okay then that will be all from our side")
    (call,) = _store(settings, [("ann", "north", no_closing)])
    (example,) = _find(settings, quality="bad", rule="closing")
    assert example.call_id == call
    # The closing rule's window is the last 30 s of the call: the clip is that window.
    assert example.end == pytest.approx(billing.duration_s, abs=0.01)
    assert example.start == pytest.approx(billing.duration_s - 30, abs=0.01)
    assert "'closing' was not said" in example.reason and "its window" in example.reason
    assert "agent: Okay then that will be all from our side" in example.text
    assert _find(settings, quality="good", rule="closing") == []


def test_forbidden_language_has_bad_examples_only(settings):
    rude = _said(reference_transcript("billing_refund"), 4, "Calm down. Let me check that for you.")
    (call,) = _store(settings, [("ann", "north", rude)])
    (example,) = _find(settings, quality="bad", rule="forbidden_language")
    assert example.call_id == call and example.text == "Calm down. Let me check that for you."
    assert "must not occur, and did" in example.reason
    with pytest.raises(InvalidInput, match="must not occur"):
        _find(settings, quality="good", rule="forbidden_language")


def test_a_reviewers_confirmation_ranks_first_and_a_contradiction_removes_the_call(settings):
    billing = reference_transcript("billing_refund")
    clear, murky, overturned = _store(settings, [
        ("ann", "north", billing),
        ("bob", "north", _confidence(billing, 0.5)),
        ("cid", "north", billing),
    ])  # fmt: skip
    assert [e.call_id for e in _find(settings, quality="good", rule="empathy")][:2] == [
        overturned,  # newest of the two clear ones
        clear,
    ]
    with session_scope(settings) as session:
        for call, decision in ((murky, "accept"), (overturned, "fail")):
            review, _ = workflow.start(session, call, REVIEWER)
            if decision == "fail":
                workflow.answer(session, review.id, REVIEWER, "2.0", "fail", "not sincere")
            workflow.submit(session, review.id, REVIEWER)
    found = _find(settings, quality="good", rule="empathy")
    assert [e.call_id for e in found] == [murky, clear]
    assert found[0].confirmed and "confirmed by a reviewer" in found[0].reason
    assert found[0].confidence == 0.5


def test_agents_are_varied_before_anyone_repeats(settings):
    billing = reference_transcript("billing_refund")
    _store(settings, [("ann", "north", billing), ("ann", "north", billing),
                      ("ann", "north", billing), ("bob", "north", _confidence(billing, 0.6))])  # fmt: skip
    found = _find(settings, quality="good", rule="empathy", limit=3)
    assert [e.agent_id for e in found] == ["ann", "bob", "ann"]


def test_items_scope_and_access(settings):
    billing = reference_transcript("billing_refund")
    north, south = _store(settings, [("ann", "north", billing), ("sue", "south", billing)])
    # Item 2.0 of the default scorecard: empathy within a minute of the complaint.
    by_item = _find(settings, quality="good", item="2.0", ruleset="default")
    assert {e.call_id for e in by_item} == {north, south}
    assert [e.call_id for e in _find(settings, quality="good", rule="empathy", team="south")] == [
        south
    ]
    limited = replace(COACH, teams=frozenset({"north"}))
    assert [e.call_id for e in _find(settings, limited, quality="good", rule="empathy")] == [north]
    with pytest.raises(NotFound):  # another team is unknown to a limited coach, as in KPIs
        _find(settings, limited, quality="good", rule="empathy", team="south")
    with pytest.raises(NotFound):
        _find(settings, limited, quality="good", rule="empathy", agent_id="sue")
    agent = Principal(3, "agent", frozenset({Scope.AGENT}), user="ann", agent_id="ann")
    with pytest.raises(Forbidden):  # examples are for coaches
        _find(settings, agent, quality="good", rule="empathy")


def test_kpi_examples_play_the_moment_that_shows_the_number(settings):
    billing = reference_transcript("billing_refund")
    _store(settings, [("ann", "north", billing)])
    (silence,) = _find(settings, quality="bad", kpi="longest_silence_s")
    # The longest gap in the reference: the hold, from the customer's "Okay." (ends 32.19 s) to
    # the agent's return (36.69 s); the clip pads it by 2 s each side.
    assert (silence.start, silence.end) == (30.19, 38.69)
    assert "the longest silence, 4.5 s at 32.2 s" in silence.reason


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"quality": "good"}, "one 'rule', 'item' or 'kpi'"),
        ({"quality": "good", "rule": "empathy", "kpi": "qa_score"}, "one 'rule'"),
        ({"quality": "good", "rule": "no_such_rule"}, "No rule 'no_such_rule' in any ruleset"),
        ({"quality": "good", "item": "9.9", "ruleset": "default"}, "No item '9.9'"),
        ({"quality": "good", "rule": "empathy", "ruleset": "nope"}, "No ruleset 'nope'"),
        ({"quality": "good", "kpi": "qa_score"}, "has no moment to play"),
        ({"quality": "good", "kpi": "silence_ratio"}, "quality=good"),
        ({"quality": "good", "rule": "empathy", "limit": 0}, "'limit'"),
    ],
)
def test_queries_without_examples_are_refused_with_the_reason(sqlite_settings, query, message):
    with pytest.raises(InvalidInput, match=message):
        _find(sqlite_settings, **query)
