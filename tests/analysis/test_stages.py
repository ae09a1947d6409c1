"""The stages of a call's analysis on a transcript, storing nothing (no model, no database)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from speechqa.analysis import analyse, audio_silences, prepare, score
from speechqa.contracts import Sentiment, Transcript
from speechqa.pipeline import sentiment
from speechqa.rules.ruleset import Ruleset, load_ruleset
from speechqa.settings import Settings
from tests.support import reference_transcript

RULES = """
rules:
  - id: card_given
    speaker: customer
    match: '[CARD_NUMBER]'
  - id: account_given
    speaker: customer
    match: '[ACCOUNT]'
"""


def ruleset(redact: str | None) -> Ruleset:
    return load_ruleset("name: payments\n" + (f"redact: {redact}\n" if redact else "") + RULES)


def card_call() -> Transcript:
    """examples/card_payment's turns, the customer's with a sentiment each."""
    t = reference_transcript("card_payment")
    moods = iter([-0.6, -0.2, 0.1, 0.3, 0.7])
    return replace(
        t,
        utterances=[
            replace(u, sentiment=Sentiment("neutral", next(moods)))
            if u.speaker == "customer"
            else u
            for u in t.utterances
        ],
    )


@pytest.mark.parametrize(
    ("ruleset_says", "deployment", "redacted"),
    [
        (None, ("CARD_NUMBER",), ["CARD_NUMBER"]),  # the deployment's types
        ("[account]", ("CARD_NUMBER",), ["ACCOUNT"]),  # the ruleset's own, not the deployment's
        ("[account, card_number]", (), ["CARD_NUMBER", "ACCOUNT"]),  # even when it redacts none
        ("'off'", ("CARD_NUMBER", "ACCOUNT"), None),  # the ruleset turns it off
        (None, (), None),
    ],
)
def test_a_call_redacts_its_rulesets_types_else_the_deployments(
    ruleset_says: str | None, deployment: tuple[str, ...], redacted: list[str] | None
) -> None:
    analysis = analyse(card_call(), ruleset(ruleset_says), Settings(redact=deployment))
    if redacted is None:
        assert analysis.redaction is None
        assert analysis.transcript == analysis.said
        return
    assert analysis.redaction is not None
    assert [s.type for s in analysis.redaction.spans] == redacted
    customer = " ".join(u.text for u in analysis.transcript.utterances if u.speaker == "customer")
    assert all(f"[{kind}]" in customer for kind in redacted)
    # The rules read the words as stored: the tags.
    matched = {r.id for r in analysis.evaluation.rules if r.matched}
    assert matched == {f"{kind.split('_')[0].lower()}_given" for kind in redacted}


def test_redaction_changes_the_words_but_not_the_measures_or_the_sentiment() -> None:
    said = card_call()
    redacted = analyse(said, ruleset("[card_number, account]"), Settings())
    plain = analyse(said, ruleset("'off'"), Settings())
    assert redacted.transcript != plain.transcript
    # Words per minute count the words said ("four five three nine ..."), not one tag.
    assert redacted.measures == plain.measures
    assert redacted.measures["wpm"]["customer"] > 0
    assert (
        redacted.sentiment == plain.sentiment == sentiment.summary(said.utterances, said.duration_s)
    )
    assert redacted.sentiment["roles"]["customer"]["turns"] == 5
    assert redacted.sentiment["customer_sentiment_shift"] == pytest.approx(1.3)


def test_the_redacted_recording_is_silenced_only_where_audio_redaction_is_on() -> None:
    found = analyse(card_call(), ruleset("[card_number]"), Settings()).redaction
    assert found is not None and found.spans
    silences = audio_silences(found, Settings())
    for span in found.spans:  # each span is silent, at least
        assert any(s.start <= span.start and s.end >= span.end for s in silences), span
    assert audio_silences(found, Settings(redact_audio=False)) == []
    assert audio_silences(None, Settings()) == []
    nothing = prepare(reference_transcript("address_change"))  # no redaction asked for
    assert nothing.redaction is None and audio_silences(nothing.redaction, Settings()) == []


def test_a_prepared_transcript_is_scored_without_being_prepared_again() -> None:
    """The stored path's seam: prepare (and store), then score with the ruleset."""
    said = card_call()
    prepared = prepare(said)
    scored = score(prepared, ruleset(None))
    assert (scored.said, scored.measures, scored.sentiment) == (
        prepared.said,
        prepared.measures,
        prepared.sentiment,
    )
    assert [r.id for r in scored.evaluation.rules] == ["card_given", "account_given"]
