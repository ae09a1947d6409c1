"""Rules on tiny.en's slips: a misheard word in a long phrase, and the low-confidence mark.

The words and probabilities are tiny.en's own, saved from the sample calls
(bench/rules_on_asr.py prints them), so no model runs here.
"""

from __future__ import annotations

from typing import Any

import pytest

from speechqa.contracts import Utterance
from speechqa.rules.index import TranscriptIndex
from speechqa.rules.matching import CompiledRule
from speechqa.rules.ruleset import default_ruleset_text, load_ruleset
from speechqa.rules.scorecard import evaluate
from tests.support import REFUND_CALL, heard

# internet_outage's closing, "Thank you for your patience. Have a nice day."
PATIENCE = [("and", 0.30), ("you", 0.68), ("for", 0.96), ("your", 0.94), ("patience,", 0.90),
            ("and", 0.89), ("I", 0.76), ("play.", 0.59)]  # fmt: skip


def matched(words: list[tuple[str, float]], match: str, misheard: int) -> bool:
    index = TranscriptIndex.build([heard(0, "agent", 1.0, words)])
    return CompiledRule.compile("r", match, misheard=misheard).evaluate(index).matched


@pytest.mark.parametrize(
    ("words", "match", "misheard", "expected"),
    [
        (PATIENCE, '"thank you for your patience"', 1, True),  # "and"(0.30) for "thank"
        (PATIENCE, '"thank you for your patience"', 0, False),  # exact matching
        # a word heard with confidence is what was said: no stand-in
        ([("and", 0.95), *PATIENCE[1:]], '"thank you for your patience"', 1, False),
        # the last word tells such phrases apart: "calling" never stands in for "holding"
        ([("Thank", 0.9), ("you", 0.9), ("for", 0.9), ("calling", 0.3)],
         '"thank you for holding"', 1, False),
        # a phrase of three words is too short to guess a word of
        ([("I", 0.96), ("can", 0.89), ("issued", 0.9)], '"i have issued"', 1, False),
        # one word only: two unsure words are two guesses
        ([("and", 0.3), ("me", 0.3), ("for", 0.96), ("your", 0.94), ("patience", 0.9)],
         '"thank you for your patience"', 1, False),
    ],
)  # fmt: skip
def test_one_unsure_word_of_a_long_phrase_may_be_misheard(words, match, misheard, expected):
    assert matched(words, match, misheard=misheard) is expected


def test_the_ruleset_sets_the_default_and_a_rule_may_turn_it_off():
    text = """name: t
matching: {misheard: 1}
rules:
  - id: closing
    match: '"thank you for your patience"'
  - id: strict
    misheard: 0
    match: '"thank you for your patience"'
"""
    ruleset = load_ruleset(text)
    index = TranscriptIndex.build([heard(0, "agent", 1.0, PATIENCE)])
    results = {r.id: r for r in (rule.evaluate(index) for rule in ruleset.rules.values())}
    assert (
        results["closing"].matched
        and results["closing"].hits[0].text == "and you for your patience,"
    )
    assert not results["strict"].matched


def items(utterances: list[Utterance]) -> dict[str, dict[str, Any]]:
    score = evaluate(load_ruleset(default_ruleset_text()), utterances, duration_s=67.0).score
    assert score is not None
    return {i["item"]: i for s in score["sections"] for i in s["items"]}


def test_a_fail_that_rests_on_unsure_words_says_so_and_where():
    resolution = items(REFUND_CALL)["rule resolution"]
    assert not resolution["passed"]
    assert resolution["low_confidence"] is True
    assert resolution["confidence"] == pytest.approx(0.80, abs=0.01)  # every agent word
    spot = resolution["weak_spots"][0]
    assert (spot["utterance"], spot["text"], spot["confidence"]) == (
        2,
        "Yes, I can wish you no reason.",
        0.65,
    )


def test_a_pass_on_sure_words_is_not_marked():
    found = items(REFUND_CALL)
    greeting, identification = found["rule greeting"], found["rule identification"]
    assert greeting["passed"] and not greeting["low_confidence"]  # one unsure word of four
    assert identification["passed"]  # "can I have your account?" in the default ruleset
    assert identification["evidence"][0]["text"] == "have your account?"
    assert identification["confidence"] == pytest.approx(0.9, abs=0.01)
    assert identification["weak_spots"] == []


def test_a_metric_item_carries_no_word_confidence():
    item = items(REFUND_CALL)["Dead air under 20% of the call"]
    assert item["confidence"] is None and item["low_confidence"] is False
