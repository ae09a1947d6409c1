"""A stored evaluation reads back as the typed result it was stored from, and rows stored before
an item had confidence figures still read."""

from __future__ import annotations

import textwrap

from speechqa.contracts import Utterance, Word
from speechqa.rules.ruleset import load_ruleset
from speechqa.rules.scorecard import Answer, Evaluation, Scorecard, evaluate, with_answers

RULESET = textwrap.dedent(
    """
    name: stored
    rules:
      - id: greeting
        speaker: agent
        match: '"good morning"'
      - id: closing
        speaker: agent
        match: goodbye
    script:
      ordered: true
      steps: [greeting, closing]
    scorecard:
      sections:
        - name: Opening
          items:
            - rule: greeting
              points: 10
        - name: Closing
          items:
            - rule: closing
              points: 5
              critical: true
    """
)


def said(i: int, start: float, text: str) -> Utterance:
    words = [Word(w, start + k, start + k + 0.5, 0.9) for k, w in enumerate(text.split())]
    return Utterance(i, "agent", start, start + len(words), text, words)


CALL = [said(0, 1.0, "good morning how can I help"), said(1, 20.0, "thanks for calling")]


def test_an_evaluation_reads_back_as_it_was_stored():
    evaluation = evaluate(load_ruleset(RULESET, version=2), CALL, duration_s=30.0)
    stored = evaluation.as_dict()
    back = Evaluation.from_stored(stored, "stored", 2)
    assert back.as_dict() == stored
    assert back.score is not None and back.script is not None
    assert (back.score.value, back.score.critical_fail, back.script.adherence) == (0.0, True, 0.5)
    greeting = back.score.item("0.0")
    assert greeting is not None and greeting.passed and greeting.evidence[0].text == "good morning"
    assert back.score.item("1.0") is back.score.sections[1].items[0]
    assert back.score.item("2.0") is None
    assert [key for key, _, _ in back.score.keyed()] == ["0.0", "1.0"]


def test_a_scorecard_stored_before_confidence_was_measured_still_reads():
    item = {
        "item": "rule greeting",
        "possible": 10,
        "earned": 10,
        "applicable": True,
        "passed": True,
        "critical": False,
        "reason": "'greeting' found",
        "evidence": [],
    }
    old = {
        "value": 100.0,
        "critical_fail": False,
        "earned": 10,
        "possible": 10,
        "sections": [{"name": "Opening", "earned": 10, "possible": 10, "items": [item]}],
    }
    card = Scorecard.from_stored(old)
    assert card.ruleset is None and card.sections[0].items[0].confidence is None
    assert not card.sections[0].items[0].low_confidence


def test_a_reviewers_answers_are_added_up_like_the_machines():
    score = evaluate(load_ruleset(RULESET, version=2), CALL, duration_s=30.0).score
    assert score is not None
    final = with_answers(score, {"1.0": Answer(True, True, "said 'bye' instead")})
    assert (final.value, final.critical_fail, final.ruleset, final.version) == (
        100.0,
        False,
        "stored",
        2,
    )
    closing = final.sections[1].items[0]
    assert closing.reason == "said 'bye' instead" and closing.earned == 5
