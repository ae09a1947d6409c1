"""Ruleset files: validation that lists every problem, scripts, scorecards and the default."""

from __future__ import annotations

import textwrap

import pytest

from speechqa.rules.ruleset import RulesetInvalid, default_ruleset_text, load_ruleset
from speechqa.rules.scorecard import evaluate
from tests.support import SCRIPTED_CALL

GOOD = textwrap.dedent(
    """
    name: retail
    rules:
      - id: greeting
        speaker: agent
        window: {first: 30}
        match: '"thank you for calling" OR "good morning"'
      - id: complaint
        speaker: customer
        match: '"charged twice" OR expensive'
      - id: apology
        speaker: agent
        match: '"sorry to hear" OR apologi*'
      - id: upsell
        speaker: agent
        match: upgrade OR premium
      - id: rude
        speaker: agent
        match: stupid OR idiot
      - id: closing
        speaker: agent
        window: {last: 10}
        match: goodbye OR "great day"
    script:
      steps: [greeting, apology, closing]
    scorecard:
      sections:
        - name: Opening
          items:
            - {rule: greeting, points: 10}
        - name: Handling
          items:
            - {rule: apology, points: 10, when: complaint, within: 10}
            - {rule: upsell, points: 5, when: rude}
            - {kpi: silence_ratio, max: 0.2, points: 5}
        - name: Compliance
          items:
            - {rule: rude, expect: absent, points: 10, critical: true}
            - {rule: closing, points: 5}
    """
)


def problems(text):
    with pytest.raises(RulesetInvalid) as err:
        load_ruleset(text)
    return err.value.details


def test_a_good_ruleset_scores_a_call():
    ruleset = load_ruleset(GOOD, version=3)
    result = evaluate(ruleset, SCRIPTED_CALL, duration_s=40.0, metrics={"silence_ratio": 0.1})
    matched = {r.id: r.matched for r in result.rules}
    assert matched == {
        "greeting": True,
        "complaint": True,
        "apology": True,
        "upsell": False,
        "rude": False,
        "closing": True,
    }
    assert result.script == {
        "adherence": 1.0, "ordered": True,
        "steps": [
            {"rule": "greeting", "found": True, "in_order": True, "start": 1.0},
            {"rule": "apology", "found": True, "in_order": True, "start": SCRIPTED_CALL[2].words[1].start},
            {"rule": "closing", "found": True, "in_order": True, "start": SCRIPTED_CALL[6].words[6].start},
        ],
    }  # fmt: skip
    score = result.score
    assert score is not None
    assert (score["value"], score["critical_fail"], score["version"]) == (100.0, False, 3)
    handling = score["sections"][1]
    assert handling["possible"] == 15  # the upsell item is N/A: no rude remark preceded it
    upsell = handling["items"][1]
    assert upsell["applicable"] is False and "N/A" in upsell["reason"]
    apology = handling["items"][0]
    assert apology["passed"] and apology["evidence"][0]["text"] == "sorry to hear"


def test_a_critical_miss_sets_the_score_to_zero():
    text = GOOD.replace("match: stupid OR idiot", "match: charge*")
    score = evaluate(load_ruleset(text), SCRIPTED_CALL, duration_s=40.0).score
    assert score is not None and score["critical_fail"] is True and score["value"] == 0.0


def test_a_missing_metric_makes_its_item_not_applicable():
    score = evaluate(load_ruleset(GOOD), SCRIPTED_CALL, duration_s=40.0).score
    kpi = score["sections"][1]["items"][2]
    assert kpi["applicable"] is False and "silence_ratio" in kpi["reason"]
    failing = evaluate(
        load_ruleset(GOOD), SCRIPTED_CALL, duration_s=40.0, metrics={"silence_ratio": 0.5}
    ).score
    assert failing["sections"][1]["items"][2]["passed"] is False
    assert failing["value"] == 87.5  # 35 of 40 applicable points


def test_an_out_of_order_script_step_does_not_count():
    text = GOOD.replace("steps: [greeting, apology, closing]", "steps: [closing, greeting]")
    script = evaluate(load_ruleset(text), SCRIPTED_CALL, duration_s=40.0).script
    assert script["adherence"] == 0.5
    assert script["steps"][1] == {
        "rule": "greeting",
        "found": True,
        "in_order": False,
        "start": None,
    }


def test_every_problem_of_a_file_is_reported_at_once():
    bad = textwrap.dedent(
        """
        name: broken
        rules:
          - id: greeting
            window: {first: -5}
            match: '"thank you for calling'
          - id: greeting
            match: hello
          - id: price
            match: price high
          - id: when_window
            window: {from: 60, to: 10}
            match: late
        script:
          steps: [greeting, nonexistent]
        scorecard:
          sections:
            - name: S
              items:
                - {rule: ghost, points: 5}
                - {kpi: happiness, max: 1, points: 5}
                - {rule: price, points: 5, when: phantom}
        """
    )
    found = problems(bad)
    messages = [f"{p['where']}: {p['message']}" for p in found]
    expected = [
        "rule 'greeting': window 'first' is negative",
        "rule 'greeting': match: unclosed quote",
        "rule 'greeting': duplicate rule id 'greeting'",
        "rule 'price': match: expected AND, OR",
        "rule 'when_window': window 'from' (60.0) must be before 'to' (10.0)",
        "script step 2: unknown rule id 'nonexistent'",
        "item 1: unknown rule id 'ghost'",
        "item 2: unknown KPI 'happiness'",
        "item 3: unknown rule id 'phantom' in 'when'",
    ]
    for fragment in expected:
        assert any(fragment in m for m in messages), (fragment, messages)
    price = next(p for p in found if p["where"] == "rule 'price'")
    assert price["line"] == 10 and price["column"] == 7
    assert len(found) == len(expected)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("name: x\nrules: [", "not valid YAML"),
        ("- just a list", "mapping"),
        ("name: x\nrules: []", "rules"),
        ("name: x\nrules:\n  - id: a\n    match: hi\n    speaker: robot", "speaker"),
        ("name: x\nrules:\n  - id: a\n    match: hi\n    fuzzy: 9", "fuzzy"),
        ("name: x\nrules:\n  - id: a\n    match: hi\n    colour: red", "colour"),
        (
            "name: x\nrules:\n  - id: a\n    match: hi\nscorecard:\n  sections:\n    - name: s\n      items:\n        - {rule: a, kpi: silence_ratio, max: 1, points: 1}",
            "either a 'rule' or a 'kpi'",
        ),
        ("name: x\nrules:\n  - id: a\n    match: hi\n    window: {first: '200%'}", "over 100%"),
        ("name: x\nrules:\n  - id: a\n    match: hi\n    window: {first: soon}", "percentage"),
    ],
)
def test_malformed_rulesets_are_rejected(text, fragment):
    with pytest.raises(RulesetInvalid) as err:
        load_ruleset(text)
    assert fragment in str(err.value.message) + str(err.value.details)


def test_the_default_ruleset_is_valid_and_scores_a_good_call():
    ruleset = load_ruleset(default_ruleset_text())
    assert ruleset.name == "default"
    result = evaluate(ruleset, SCRIPTED_CALL, duration_s=40.0)
    matched = {r.id for r in result.rules if r.matched}
    assert {
        "greeting",
        "introduction",
        "identification",
        "empathy",
        "resolution",
        "further_help",
        "closing",
    } <= matched
    assert "forbidden_language" not in matched
    assert result.score["critical_fail"] is False and result.score["value"] >= 90
