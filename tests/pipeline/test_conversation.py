"""Conversation metrics on hand-made timelines with known answers, and on a generated call."""

from __future__ import annotations

import pytest

from speechqa.contracts import Utterance, Word
from speechqa.pipeline.analysis import transcribe_call
from speechqa.pipeline.conversation import bridge, call_metrics, conversation, kpis
from speechqa.pipeline.transcription import Transcriber
from speechqa.settings import Settings
from tests.support import EXAMPLES, reference


def test_bridging_joins_gaps_under_a_second():
    assert bridge([[5, 6], [0, 1], [1.5, 2], [3.2, 4]], 1.0) == [(0.0, 2.0), (3.2, 4.0), (5.0, 6.0)]


def m(agent, customer, duration, utterances=()):
    return conversation({"agent": agent, "customer": customer}, list(utterances), duration)


def test_a_simple_alternating_call():
    result = m([[0, 10], [20, 30]], [[11, 19]], 30)
    assert result["talk_s"] == {"agent": 20.0, "customer": 8.0}
    assert result["agent_talk_pct"] == pytest.approx(20 / 30, abs=1e-4)
    assert result["talk_listen_ratio"] == pytest.approx(20 / 28, abs=1e-4)
    assert result["silence_count"] == 0  # 1 s gaps are not non-talk
    assert result["overtalk_s"] == 0
    assert result["interruptions"] == {"agent": 0, "customer": 0}


def test_silences_at_the_edges_count():
    result = m([[5, 10]], [[14, 16]], 25)
    assert result["silence_count"] == 3  # 0-5, 10-14, 16-25
    assert result["silence_s"] == 18.0
    assert result["longest_silence_s"] == 9.0
    assert result["silence_ratio"] == pytest.approx(18 / 25, abs=1e-4)


def test_overlap_and_interruptions():
    # The customer cuts in at 8 while the agent talks until 10; the agent cuts back in at 14.5.
    result = m([[0, 10], [14.5, 20]], [[8, 15]], 20)
    assert result["overtalk_s"] == pytest.approx(2.5)
    assert result["interruptions"] == {"agent": 1, "customer": 1}
    # A backchannel of 0.3 s over the other party is not an interruption.
    assert m([[0, 10]], [[5, 5.3]], 10)["interruptions"]["customer"] == 0


def test_monologues_are_broken_only_by_the_other_party():
    result = m([[0, 10], [10.5, 20], [25, 30]], [[21, 24]], 30)
    assert result["longest_monologue_s"]["agent"] == 20.0  # 0-20 bridged; 25-30 after the customer
    assert result["longest_monologue_s"]["customer"] == 3.0


@pytest.mark.parametrize(
    ("agent", "customer", "duration"),
    [([], [], 0.0), ([], [], 30.0), ([[0, 30]], [], 30.0), ([], [[2, 4]], 10.0)],
    ids=["empty call", "all silence", "one-sided", "customer only"],
)
def test_thin_calls_give_numbers_not_errors(agent, customer, duration):
    result = m(agent, customer, duration)
    assert result["talk_s"]["agent"] == sum(b - a for a, b in agent)
    flat = kpis(result)
    assert all(isinstance(v, float) for v in flat.values())


def test_rates_and_questions_come_from_the_words():
    words = [
        Word(w, i * 0.5, i * 0.5 + 0.4, 0.9)
        for i, w in enumerate(["how", "can", "I", "help", "you", "today?"])
    ]
    utterances = [Utterance(0, "agent", 0.0, 3.0, "How can I help you today?", words)]
    result = m([[0, 3]], [], 3, utterances)
    assert result["wpm"]["agent"] == 120.0  # 6 words in 3 s
    assert result["agent_questions"] == 1


@pytest.mark.slow
def test_measured_on_a_generated_call_against_its_known_timing():
    transcript = transcribe_call(
        EXAMPLES / "billing_refund.wav", Settings(), transcriber=Transcriber(Settings())
    )
    speech = {k: [[iv.start, iv.end] for iv in v] for k, v in transcript.speech.items()}
    measured = conversation(speech, transcript.utterances, transcript.duration_s)
    turns = reference("billing_refund")["turns"]
    truth = conversation(
        {r: [[t["start"], t["end"]] for t in turns if t["speaker"] == r] for r in ("agent", "customer")},
        [], reference("billing_refund")["duration_s"],
    )  # fmt: skip
    for role in ("agent", "customer"):
        assert measured["talk_s"][role] == pytest.approx(truth["talk_s"][role], rel=0.1)
    assert measured["silence_count"] == truth["silence_count"] == 1  # the hold
    assert measured["longest_silence_s"] == pytest.approx(truth["longest_silence_s"], abs=0.5)
    assert measured["overtalk_s"] == pytest.approx(truth["overtalk_s"], abs=0.3)
    assert measured["interruptions"] == truth["interruptions"] == {"agent": 0, "customer": 1}
    flat = call_metrics(transcript.utterances, transcript.duration_s, measured)
    assert {"silence_ratio", "agent_interruptions", "customer_sentiment_shift"} <= set(flat)
