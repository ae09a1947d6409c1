"""Call language read right: agents' empathy and apologies, and polite refusals, are not negative.

The shipped model reads "I'm so sorry about the trouble this has caused" as negative (it was
trained on tweets and Reddit); the sentiment stage knows who speaks and corrects courtesy lines.
These tests run the real shipped model on the team's held-out call-centre lines
(``data/sentiment/callcenter_test.jsonl``) and check the correction rule with a table.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from speechqa.contracts import Utterance
from speechqa.pipeline.sentiment import (
    SentimentModel,
    courtesy,
    load_model,
    neutralise,
    score_utterances,
)
from speechqa.settings import Settings
from tests.support import ROOT

TEST_LINES = [
    json.loads(line)
    for line in (ROOT / "data" / "sentiment" / "callcenter_test.jsonl").open(encoding="utf-8")
]


@pytest.fixture(scope="module")
def model() -> SentimentModel:
    return load_model()


def scored(model, lines, courtesy_aware=True):
    utterances = [Utterance(i, r["speaker"], 0.0, 1.0, r["text"]) for i, r in enumerate(lines)]
    return [u.sentiment for u in score_utterances(model, utterances, courtesy_aware)]


def test_the_issues_lines_said_by_the_agent_are_not_negative(model):
    lines = [
        {"speaker": "agent", "text": "I'm so sorry about the trouble this has caused."},
        {"speaker": "agent", "text": "I completely understand how frustrating that must be."},
        {"speaker": "agent", "text": "No, that's fine."},
        {"speaker": "customer", "text": "No, that's fine."},
    ]
    before = scored(model, lines, courtesy_aware=False)
    after = scored(model, lines)
    assert before[0].label == before[1].label == "negative"  # what the issue reported
    assert all(s.label in ("neutral", "positive") and s.score >= 0 for s in after), after


def test_agents_empathy_and_apologies_come_out_neutral_or_positive(model):
    lines = [r for r in TEST_LINES if r["category"] in ("empathy", "apology")]
    assert len(lines) == 60
    before = scored(model, lines, courtesy_aware=False)
    after = scored(model, lines)
    negative_before = sum(s.label == "negative" for s in before)
    wrong = [(r["text"], s) for r, s in zip(lines, after, strict=True) if s.label == "negative"]
    assert negative_before >= 45  # measured 59 of 60: the model alone punishes empathy
    assert len(wrong) <= 2, wrong  # measured 0


def test_clear_customer_complaints_stay_negative(model):
    lines = [r for r in TEST_LINES if r["category"] in ("complaint", "angry")]
    after = scored(model, lines)
    assert after == scored(model, lines, courtesy_aware=False)  # the correction leaves them alone
    negative = sum(s.label == "negative" for s in after)
    assert negative / len(lines) >= 0.75, negative  # measured 32 of 39
    # A complaint that opens like courtesy stays negative.
    tricky = [
        r
        for r in lines
        if r["text"].lower().startswith(("sorry", "i'm sorry", "no,", "i understand"))
    ]
    assert len(tricky) >= 4
    assert all(s.label == "negative" for s in scored(model, tricky)), tricky


def test_the_correction_only_moves_negative_onto_neutral(model):
    lines = [r for r in TEST_LINES if r["category"] in ("thanks", "positive", "business")]
    before, after = scored(model, lines, courtesy_aware=False), scored(model, lines)
    for b, a in zip(before, after, strict=True):
        assert a.score >= b.score
        assert a == b or (b.label == "negative" or a.label == b.label)


def test_hostile_agents_keep_what_the_model_reads(model):
    lines = [r for r in TEST_LINES if r["category"] == "rude"]
    lines.append({"speaker": "agent", "text": "Sorry, but that's not my problem."})
    after = scored(model, lines)
    assert after == scored(model, lines, courtesy_aware=False)
    assert after[-1].label == "negative"


def test_the_setting_turns_the_correction_off():
    assert Settings().sentiment_courtesy is True
    assert Settings(sentiment_courtesy=False).sentiment_courtesy is False


@pytest.mark.parametrize(
    ("text", "speaker", "kind"),
    [
        ("I'm so sorry about the trouble this has caused.", "agent", "empathy"),
        ("I completely understand how frustrating that must be.", "agent", "empathy"),
        ("I do apologise, that was our mistake.", "agent", "empathy"),
        ("My apologies for keeping you waiting.", "agent", "empathy"),
        ("That sounds awful.", "agent", "empathy"),
        ("I can only imagine how worrying that was.", "agent", "empathy"),
        ("Unfortunately the offer has ended.", "agent", "empathy"),
        ("I'm afraid the line test shows a fault.", "agent", "empathy"),
        ("I'm so sorry about the trouble this has caused.", "customer", None),
        ("I understand you're busy but this is unacceptable.", "customer", None),
        ("That sounds awful.", "customer", None),
        ("No, that's fine.", "customer", "refusal"),
        ("No, that's fine, take your time.", "agent", "refusal"),
        ("Nope, all good.", "customer", "refusal"),
        ("No thanks, I'm okay.", "customer", "refusal"),
        ("Not right now, thank you.", "customer", "refusal"),
        ("No worries at all.", "agent", "refusal"),
        ("No, that's not fine, I want a refund.", "customer", None),
        ("No, it's not okay.", "customer", None),
        ("No, I'm not happy with that at all.", "customer", None),
        ("No, this is ridiculous.", "customer", None),
        ("Nobody called me back.", "customer", None),
        ("No.", "customer", None),
        ("Nope, not again.", "customer", None),
        ("No, you won't lose any data.", "agent", "refusal"),
        ("Sorry, could you say that again?", "customer", "clarification"),
        ("Sorry, I didn't catch that.", "customer", "clarification"),
        ("Sorry, why is this still not fixed?", "customer", None),
        ("Sorry, but I've had enough of this.", "customer", None),
        ("Sorry, but that's not my problem.", "agent", None),
        ("I understand, but calm down.", "agent", None),
        ("Whatever, I'm sorry.", "agent", None),
        ("Thank you for calling.", "agent", None),
        ("The engineer never came.", "customer", None),
        ("", "agent", None),
    ],
)
def test_which_lines_are_courtesy(text, speaker, kind):
    assert courtesy(text, speaker) == kind


@pytest.mark.parametrize(
    ("probabilities", "label", "score"),
    [
        ([0.96, 0.03, 0.01], "neutral", 0.01),  # the model's "negative" empathy: neutral
        ([0.60, 0.05, 0.35], "neutral", 0.35),  # neutral wins over a weaker positive
        ([0.50, 0.10, 0.40], "neutral", 0.40),
        ([0.20, 0.10, 0.70], "positive", 0.70),  # positive stays positive
        ([0.00, 0.90, 0.10], "neutral", 0.10),
    ],
)
def test_neutralise_moves_negative_onto_neutral(model, probabilities, label, score):
    row = neutralise(model, np.array(probabilities))
    assert row.sum() == pytest.approx(1.0)
    result = model.sentiment(row)
    assert result.label == label
    assert result.score == pytest.approx(score)
