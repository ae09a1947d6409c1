"""The shipped sentiment model, its aggregation per role and quarter, and its use in scoring."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from speechqa.contracts import Sentiment, Utterance
from speechqa.errors import ModelUnavailable
from speechqa.pipeline.analysis import transcribe_call
from speechqa.pipeline.sentiment import (
    DEFAULT_MODEL,
    SentimentModel,
    courtesy,
    load_model,
    summary,
)
from speechqa.pipeline.transcription import Transcriber
from speechqa.rules.ruleset import load_ruleset
from speechqa.rules.scorecard import evaluate
from speechqa.settings import Settings
from tests.support import EXAMPLES, ROOT

# Call-centre lines written for this test: the model never saw them.
LABELLED = [
    ("I have been charged twice and nobody is helping me, this is a disgrace.", "negative"),
    ("Your service has been awful and I want to cancel right now.", "negative"),
    ("I'm really upset, the engineer never showed up.", "negative"),
    ("This is the third time I'm calling about the same problem!", "negative"),
    ("Honestly I am fed up with this company.", "negative"),
    ("Thank you so much, that's brilliant.", "positive"),
    ("You've been really helpful, I appreciate it.", "positive"),
    ("Great, that works perfectly for me.", "positive"),
    ("Wonderful, thanks for sorting that out so quickly.", "positive"),
    ("That's fantastic news, I'm very happy with that.", "positive"),
    ("My account number is four five six seven.", "neutral"),
    ("I moved house last week.", "neutral"),
    ("Could you tell me when the technician will arrive?", "neutral"),
    ("The order number is on the email.", "neutral"),
    ("Let me check that for you.", "neutral"),
]


@pytest.fixture(scope="module")
def model() -> SentimentModel:
    return load_model()


def test_the_model_reads_call_utterances_it_never_saw(model):
    predicted = model.predict([text for text, _ in LABELLED])
    right = sum(p.label == gold for p, (_, gold) in zip(predicted, LABELLED, strict=True))
    assert right / len(LABELLED) >= 0.8, [
        (t, p.label) for p, (t, _) in zip(predicted, LABELLED, strict=True)
    ]
    for p in predicted:
        assert -1.0 <= p.score <= 1.0
    assert predicted[0].score < -0.5 and predicted[5].score > 0.5


def test_odd_text_is_handled(model):
    texts = ["", "   ", "?!...", "x" * 20_000, "Das ist wirklich schrecklich.", "🙂🙂"]
    results = model.predict(texts)
    assert results[0] == results[1] == results[2] == Sentiment("neutral", 0.0)
    assert len(results) == len(texts)
    assert all(r.label in ("negative", "neutral", "positive") for r in results)


def test_the_model_is_loaded_once_per_process():
    assert load_model() is load_model(DEFAULT_MODEL)


def test_a_missing_or_corrupt_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelUnavailable, match=r"lacks model\.onnx"):
        SentimentModel(tmp_path)
    for name in ("tokenizer.json", "config.json"):
        shutil.copy(DEFAULT_MODEL / name, tmp_path / name)
    (tmp_path / "model.onnx").write_bytes(b"not an onnx model")
    with pytest.raises(ModelUnavailable, match="could not be loaded"):
        SentimentModel(tmp_path)


def u(i, speaker, start, end, score):
    label = "negative" if score < -0.3 else "positive" if score > 0.3 else "neutral"
    return Utterance(i, speaker, start, end, "x", [], Sentiment(label, score))


def test_quarters_overall_and_shift_on_a_hand_made_call():
    utterances = [
        u(0, "agent", 0, 5, 0.2),
        u(1, "customer", 5, 15, -0.8),  # Q1 (0-25)
        u(2, "customer", 20, 24, -0.6),  # Q1
        u(3, "agent", 26, 30, 0.0),  # Q2
        u(4, "customer", 55, 60, 0.1),  # Q3
        u(5, "customer", 80, 90, 0.9),  # Q4
        u(6, "agent", 95, 99, 0.6),  # Q4
    ]
    result = summary(utterances, duration_s=100.0)
    customer = result["roles"]["customer"]
    assert customer["turns"] == 4
    assert customer["quarters"] == [-0.7, None, 0.1, 0.9]
    assert customer["overall"] == pytest.approx((-0.7 + 0.1 + 0.9) / 3, abs=1e-4)
    assert result["customer_sentiment_shift"] == pytest.approx(1.6)
    assert result["roles"]["agent"]["quarters"] == [0.2, 0.0, None, 0.6]


@pytest.mark.parametrize(
    "utterances",
    [[], [u(0, "agent", 0, 5, 0.5)], [u(0, "customer", 0, 5, -0.5)]],
    ids=["empty", "agent only", "customer in one quarter"],
)
def test_aggregation_of_thin_calls(utterances):
    result = summary(utterances, duration_s=60.0)
    assert result["customer_sentiment_shift"] is None


@pytest.fixture(scope="module")
def angry_call():
    return transcribe_call(
        EXAMPLES / "angry_to_satisfied.wav", Settings(), transcriber=Transcriber(Settings())
    )


@pytest.mark.slow
def test_a_customer_who_starts_angry_and_ends_satisfied(angry_call):
    result = summary(angry_call.utterances, angry_call.duration_s)
    quarters = result["roles"]["customer"]["quarters"]
    assert quarters[0] < -0.4, quarters  # measured -0.76
    assert quarters[3] > 0.1, quarters  # measured +0.25
    assert result["customer_sentiment_shift"] > 0.5  # measured +1.01
    first = next(x for x in angry_call.utterances if x.speaker == "customer")
    assert first.sentiment is not None and first.sentiment.label == "negative"


@pytest.mark.slow
def test_the_agents_empathy_in_the_call_is_not_read_as_negative(angry_call):
    # "I am very sorry about that. I understand how frustrating this is. May I have ..."
    empathy = [x for x in angry_call.utterances if courtesy(x.text, x.speaker) == "empathy"]
    assert empathy and all(x.speaker == "agent" for x in empathy)
    alone = load_model().predict([x.text for x in empathy])
    assert any(s.label == "negative" for s in alone)  # what the model alone says
    assert all(x.sentiment and x.sentiment.label != "negative" for x in empathy), empathy


@pytest.mark.slow
def test_sentiment_feeds_scorecard_kpis(angry_call):
    ruleset = load_ruleset(
        "name: s\nrules:\n  - id: hi\n    match: hello\nscorecard:\n  sections:\n    - name: Outcome\n"
        "      items:\n        - {kpi: customer_sentiment_shift, min: 0.3, points: 10}\n"
        "        - {kpi: customer_sentiment, min: 0.5, points: 10}\n"
    )
    score = evaluate(ruleset, angry_call.utterances, duration_s=angry_call.duration_s).score
    shift, overall = score["sections"][0]["items"]
    assert shift["applicable"] and shift["passed"] and "customer_sentiment_shift" in shift["reason"]
    assert overall["applicable"] and not overall["passed"]
    assert score["value"] == 50.0


def test_sentiment_command_reads_lines_and_keeps_their_order():
    lines = ["This is terrible, I want my money back.", "", "Thanks, that's perfect!"]
    result = subprocess.run(
        [sys.executable, "-m", "speechqa_service.cli.main", "sentiment"], input="\n".join(lines) + "\n",
        capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["label"] for o in out] == ["negative", "neutral", "positive"]


def test_sentiment_command_reads_courtesy_by_speaker():
    lines = ["I'm so sorry about the trouble this has caused.", "No, that's fine."]
    labels = {}
    for speaker in ([], ["--speaker", "agent"]):
        result = subprocess.run(
            [sys.executable, "-m", "speechqa_service.cli.main", "sentiment", *speaker], input="\n".join(lines) + "\n",
            capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        labels[bool(speaker)] = [json.loads(line)["label"] for line in result.stdout.splitlines()]
    assert labels[False][0] == "negative"  # the model alone
    assert "negative" not in labels[True]


@pytest.mark.parametrize(
    ("rule", "matched", "hit_ids"),
    [
        ("sentiment: negative\n    speaker: customer\n    window: {last: 45}", False, []),
        ("sentiment: negative\n    speaker: customer\n    window: {first: 30}", True, [1, 2]),
        ("sentiment: positive\n    speaker: customer", False, []),  # mean over the call: -0.1
        ("sentiment: neutral\n    speaker: customer", True, [4]),
        ("sentiment: positive\n    speaker: customer\n    window: {last: 25}", True, [5]),
        ("sentiment: negative\n    speaker: agent", False, []),
    ],
)
def test_rules_can_test_sentiment(rule, matched, hit_ids):
    utterances = [
        u(0, "agent", 0, 5, 0.2),
        u(1, "customer", 5, 15, -0.8),
        u(2, "customer", 20, 24, -0.6),
        u(3, "agent", 26, 30, 0.0),
        u(4, "customer", 55, 60, 0.1),
        u(5, "customer", 80, 90, 0.9),
    ]
    ruleset = load_ruleset(f"name: s\nrules:\n  - id: r\n    {rule}\n")
    (result,) = evaluate(ruleset, utterances, duration_s=100.0).rules
    assert result.matched is matched
    assert [h.utterance for h in result.hits] == hit_ids


def test_a_rule_needs_something_to_match():
    from speechqa.rules.ruleset import RulesetInvalid

    with pytest.raises(RulesetInvalid, match="'match', 'sentiment' or both"):
        load_ruleset("name: s\nrules:\n  - id: r\n    speaker: agent\n")
