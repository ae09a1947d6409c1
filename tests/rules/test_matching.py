"""The match language and rule scopes on hand-made transcripts."""

from __future__ import annotations

import pytest

from speechqa.rules.index import TranscriptIndex
from speechqa.rules.language import MatchSyntaxError, parse
from speechqa.rules.matching import CompiledRule, Window
from tests.support import SCRIPTED_CALL, utt


@pytest.fixture(scope="module")
def index() -> TranscriptIndex:
    return TranscriptIndex.build(SCRIPTED_CALL, duration_s=40.0)


def run(index, match, **kw):
    return CompiledRule.compile("r", match, **kw).evaluate(index)


@pytest.mark.parametrize(
    ("match", "matched", "first_text"),
    [
        ('"thank you for calling"', True, "Thank you for calling"),
        ("calling", True, "calling"),
        ('"for thank you"', False, None),
        ("CALLING", True, "calling"),                       # case-insensitive
        ('"sorry to hear"', True, "sorry to hear"),
        ("cancel", True, "cancel"),                         # lemma: cancel finds cancelled too
        ("refunds", True, "refund"),                        # lemma of the rule word
        ("charg*", True, "charged"),                        # prefix wildcard
        ("subscri*", True, "subscription."),
        ("xyz*", False, None),
        ('"account number"', True, "account number"),
        ('"refund of [num] dollars"', True, "refund of forty dollars."),
        ('"it is [num]"', True, "It is 4"),
        ("'can''t afford'", False, None),
        ('"don\'t cancel"', True, "don't cancel"),
        ('"i am sorry"', True, "I'm sorry"),                # contractions split the same on both sides
        ("goodbye AND refund", True, "refund"),
        ("goodbye AND unicorn", False, None),
        ("unicorn OR goodbye", True, "goodbye."),
        ("NOT unicorn", True, None),
        ("NOT goodbye", False, None),
        ("refund AND NOT unicorn", True, "refund"),
        ("(unicorn OR refund) AND (goodbye OR dragon)", True, "refund"),
        ("price NEAR/2 high", True, "price is really high"),
        ("price NEAR/1 high", False, None),
        ("high NEAR/2 price", True, "price is really high"),  # either order
        ("price NEAR/5 refund", False, None),                 # same utterance only
        ("greeting BEFORE goodbye", False, None),
        ("calling BEFORE goodbye", True, "calling"),
        ("goodbye BEFORE calling", False, None),
    ],
)  # fmt: skip
def test_operators(index, match, matched, first_text):
    result = run(index, match)
    assert result.matched is matched
    if first_text is not None:
        assert result.hits, match
        assert result.hits[0].text.rstrip(",.") == first_text.rstrip(",.")
    if not matched:
        assert result.hits == []


@pytest.mark.parametrize(
    ("speaker", "window", "match", "matched"),
    [
        ("agent", None, "cancel", True),                   # "cancelled" by the agent
        ("customer", None, "refund", False),
        ("customer", None, '"charged twice"', True),
        ("agent", Window(first=5), '"my name is"', True),
        ("agent", Window(first=2), '"my name is"', False),
        ("agent", Window(last=10), "goodbye", True),
        ("agent", Window(last=10), '"thank you for calling"', False),
        ("any", Window(start=10, end=20), "price", True),
        ("any", Window(start=10, end=15), "price", False),
        ("agent", Window(first=10, pct=True), '"thank you"', True),   # first 10% = 4 s
        ("agent", Window(last=25, pct=True), "goodbye", True),
        ("agent", Window(last=5, pct=True), "refund", False),
    ],
)  # fmt: skip
def test_speaker_and_window_scopes(index, speaker, window, match, matched):
    assert run(index, match, speaker=speaker, window=window).matched is matched


def test_hits_record_utterance_speaker_times_and_words(index):
    result = run(index, '"account number"', speaker="agent")
    (hit,) = result.hits
    assert (hit.utterance, hit.speaker) == (2, "agent")
    assert hit.start == SCRIPTED_CALL[2].words[9].start
    assert hit.end == SCRIPTED_CALL[2].words[10].end
    assert hit.text == "account number"


def test_every_occurrence_is_a_hit(index):
    assert len(run(index, "cancel").hits) == 3


@pytest.mark.parametrize(
    ("misspelt", "fuzzy", "matched"),
    [("refnd", 1, True), ("refnd", 0, False), ("dublicate", 1, True), ("dplcte", 1, False)],
)
def test_fuzzy_matching_tolerates_asr_misspellings(index, misspelt, fuzzy, matched):
    assert run(index, misspelt, fuzzy=fuzzy).matched is matched


@pytest.mark.parametrize(
    "transcript",
    [[], [utt(0, "customer", 0.0, "hello")], [utt(0, "speaker_1", 0.0, "thank you for calling")]],
    ids=["empty", "one word", "no agent"],
)
def test_odd_transcripts_never_raise(transcript):
    index = TranscriptIndex.build(transcript)
    for match in ('"thank you"', "NOT hello", "a NEAR/2 b", "a BEFORE b", "hel*", "[num]"):
        for speaker in ("agent", "any"):
            run(index, match, speaker=speaker, window=Window(last=10))


@pytest.mark.parametrize(
    ("source", "column", "message"),
    [
        ("", 1, "empty"),
        ("price high", 7, "expected AND, OR"),
        ("(price OR high", 1, "missing ')'"),
        ("price OR high)", 14, "unmatched ')'"),
        ('"thank you', 1, "unclosed quote"),
        ("price NEAR high", 7, "NEAR needs a distance"),
        ("price AND", 10, "ends where a word"),
        ("x NEAR/2 NOT y", 3, "NOT operand"),
        ("*ing", 1, "may only end a word"),
        ("i*", 1, "at least 2 letters"),
        ("pr*ce", 1, "only end a word"),
        ('""', 1, "empty phrase"),
        ("OR price", 1, "expected a word or phrase"),
    ],
)
def test_syntax_errors_name_the_column(source, column, message):
    with pytest.raises(MatchSyntaxError) as err:
        parse(source)
    assert err.value.column == column
    assert message in err.value.message
