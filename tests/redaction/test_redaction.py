"""The redaction stage on words as ASR writes them, its settings, rules on tags, and the audio."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest

from speechqa import redaction
from speechqa.calls import recordings
from speechqa.contracts import Interval, Silence, Transcript, Utterance, Word
from speechqa.pipeline.numbers import DIGITS, TEENS, TENS
from speechqa.rules.index import TranscriptIndex
from speechqa.rules.matching import CompiledRule
from speechqa.rules.ruleset import RulesetInvalid, load_ruleset
from speechqa.settings import Settings
from tests.support import EXAMPLES, ROOT, reference


def words(text: str, start: float = 0.0, step: float = 0.3) -> list[Word]:
    return [
        Word(t, round(start + k * step, 3), round(start + k * step + 0.25, 3), 0.9)
        for k, t in enumerate(text.split())
    ]


def utt(i: int, speaker: str, start: float, text: str) -> Utterance:
    ws = words(text, start)
    return Utterance(i, speaker, start, ws[-1].end, text, ws)


def transcript(*utterances: Utterance) -> Transcript:
    return Transcript(
        duration_s=max(u.end for u in utterances) + 1,
        source_channels=2,
        channels={"left": "agent", "right": "customer"},
        language="en",
        utterances=list(utterances),
    )


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        # card numbers: words, digits, groups, "double", "oh"; Luhn decides without a cue
        ("it is four five three nine one four eight eight zero three four three six four six "
         "seven", "it is [CARD_NUMBER]"),
        ("sure 4539 1488 0343 6467 thanks", "sure [CARD_NUMBER] thanks"),
        ("Yes, it is 4 .5 -3 -9, 1 -4 -8 -8, 0 -3 -4 -3, 6 -4 -6 -7.", "Yes, it is [CARD_NUMBER]."),
        ("four five three nine double one oh oh zero zero zero zero zero zero zero nine",
         "[CARD_NUMBER]"),  # 4539110000000009 passes Luhn
        # the same 16 digits failing Luhn and with no cue are still a long number
        ("it is 4539 1488 0343 6468", "it is [ACCOUNT]"),
        # cues type numbers
        ("my account number is double five oh two three nine one", "my account number is [ACCOUNT]"),
        ("the security code is one two three", "the security code is [SECURITY_CODE]"),
        ("the last four digits are one two three four", "the last four digits are [ACCOUNT]"),
        ("my social security number is one two three four five six seven eight nine",
         "my social security number is [SSN]"),
        ("you can reach me on oh seven seven double nine one two three four five six",
         "you can reach me on [PHONE]"),
        ("my date of birth is March third, nineteen eighty.", "my date of birth is [DOB]."),
        ("I was born on the 14th of July, 1985.", "I was born on [DOB]."),
        # e-mail, spoken and written
        ("you can email me at john dot smith at gmail dot com please",
         "you can email me at [EMAIL] please"),
        ("it is john.smith@gmail.com", "it is [EMAIL]"),
        # addresses and names by patterns
        ("I live at forty two Maple Avenue, Springfield.", "I live at [ADDRESS]."),
        ("Hi, my name is John Smith and I need help", "Hi, my name is [NAME] and I need help"),
        # what must stay: amounts, times, short numbers with no cue
        ("I was charged forty dollars three to five times", None),
        ("it should be fixed by five o'clock today", None),
        ("sure it is four five six seven", None),
        ("the order number is seven seven one two", None),
        ("what is your date of birth? sorry, I have two cards", None),
        ("yes, my account is with you since 2015", None),
        ("can you hold on a second", None),
    ],
)  # fmt: skip
def test_spoken_personal_data_is_replaced_by_its_type(said: str, expected: str | None) -> None:
    assert redaction.text(said) == (expected or said)


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        # after an expiry cue, as people say it and as ASR writes it
        ("the expiry is oh nine twenty eight", "the expiry is [CARD_EXPIRY]"),
        ("it expires 09/28", "it expires [CARD_EXPIRY]"),
        ("expiration date nine twenty-eight", "expiration date [CARD_EXPIRY]"),
        ("valid until September twenty twenty eight", "valid until [CARD_EXPIRY]"),
        ("exp oh nine slash two eight", "exp [CARD_EXPIRY]"),
        ("The expiry of 9, 28.", "The expiry of [CARD_EXPIRY]."),  # tiny.en on the kept call
        ("the expiry date is 12/2026 thanks", "the expiry date is [CARD_EXPIRY] thanks"),
        ("it expires 09-28.", "it expires [CARD_EXPIRY]."),
        ("valid thru twelve twenty five", "valid thru [CARD_EXPIRY]"),
        # right after the card number, with or without a cue
        ("it is 4539 1488 0343 6467 09/28", "it is [CARD_NUMBER] [CARD_EXPIRY]"),
        ("4539 1488 0343 6467, oh nine twenty eight.", "[CARD_NUMBER], [CARD_EXPIRY]."),
        ("it is 4539 1488 0343 6467 and 09 28", "it is [CARD_NUMBER] and [CARD_EXPIRY]"),
        ("four five three nine one four eight eight zero three four three six four six seven "
         "expires oh nine twenty eight", "[CARD_NUMBER] expires [CARD_EXPIRY]"),
        # what must stay
        ("the offer expires in thirty days", None),
        ("my old card expired last year", None),
        ("it is 4539 1488 0343 6467 and I pay 40 dollars", "it is [CARD_NUMBER] and I pay 40 dollars"),
    ],
)  # fmt: skip
def test_a_cards_expiry_is_its_own_type(said: str, expected: str | None) -> None:
    assert redaction.text(said) == (expected or said)


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("My date of birth is the fourteenth of March nineteen eighty five.",
         "My date of birth is [DOB]."),
        ("My date of birth is the 14th of March, 1985.", "My date of birth is [DOB]."),
        ("my date of birth is the 14th", "my date of birth is [DOB]"),
        ("my birthday is the fourteenth", "my birthday is [DOB]"),
        ("date of birth: fourteenth of March", "date of birth: [DOB]"),
        ("my date of birth is 14th of March 1985", "my date of birth is [DOB]"),
        ("my date of birth is March the 14th", "my date of birth is [DOB]"),
        ("my date of birth is March the 14th, 1985.", "my date of birth is [DOB]."),
        ("my date of birth is 3/14/1985", "my date of birth is [DOB]"),
        ("I was born on the twenty-first of June", "I was born on [DOB]"),
        ("what is your date of birth? hold on a second", None),
    ],
)  # fmt: skip
def test_a_birth_date_is_one_span_with_its_article_and_ordinal(
    said: str, expected: str | None
) -> None:
    assert redaction.text(said) == (expected or said)


def test_the_agents_cues_type_the_expiry_and_birth_date_as_the_model_heard_them() -> None:
    """The kept call (tests/data/card_expiry.wav) as tiny.en heard it: "date of birth" became
    "net on birth" and "date of work", "oh" became "of"."""
    t = transcript(
        utt(0, "agent", 0.0, "And when does the card expire?"),
        utt(1, "customer", 2.0, "The expiry of 9, 28."),
        utt(2, "agent", 5.0, "For security, can you confirm your net on birth?"),
        utt(3, "customer", 9.0, "My date of work is the 14th of March 1985."),
    )
    texts = [u.text for u in redaction.redact(t).transcript.utterances]
    assert texts[1] == "The expiry of [CARD_EXPIRY]."
    assert texts[3] == "My date of work is [DOB]."


def test_a_ruleset_names_the_expiry_and_rules_match_its_tag() -> None:
    ruleset = load_ruleset(RULESET.format(redact="[card_number, card_expiry]"))
    assert ruleset.redaction_types(Settings().redact) == ("CARD_NUMBER", "CARD_EXPIRY")
    t = transcript(
        utt(0, "agent", 0.0, "And the expiry date?"),
        utt(1, "customer", 3.0, "It expires 09/28."),
    )
    redacted = redaction.redact(t, ruleset.redaction_types(()))
    index = TranscriptIndex.build(redacted.transcript.utterances)
    for match in ("[CARD_EXPIRY]", '"expires [card_expiry]"', "[num]"):
        assert CompiledRule.compile("r", match, speaker="customer").evaluate(index).matched
    assert not CompiledRule.compile("r", "28", speaker="customer").evaluate(index).matched
    only_cards = redaction.redact(t, ("CARD_NUMBER",)).transcript.utterances[1].text
    assert only_cards == "It expires 09/28."


def test_a_cue_said_by_the_agent_types_the_customers_answer_and_the_tag_keeps_the_times() -> None:
    t = transcript(
        utt(0, "agent", 0.0, "For security, can you confirm your date of birth?"),
        utt(1, "customer", 4.0, "Sure. March third, nineteen eighty."),
        utt(2, "agent", 8.0, "And your account number?"),
        utt(3, "customer", 10.0, "It is four five six seven eight nine."),
    )
    result = redaction.redact(t)
    texts = [u.text for u in result.transcript.utterances]
    assert texts[1] == "Sure. [DOB]." and texts[3] == "It is [ACCOUNT]."
    dob = result.transcript.utterances[1].words[1]
    said = t.utterances[1].words
    assert (dob.word, dob.start, dob.end) == ("[DOB].", said[1].start, said[-1].end)
    assert [(s.type, s.speaker, s.start, s.end) for s in result.spans] == [
        ("DOB", "customer", said[1].start, said[-1].end),
        ("ACCOUNT", "customer", 10.6, t.utterances[3].words[-1].end),
    ]
    # the unredacted words keep their own times
    assert result.transcript.utterances[1].words[0] == said[0]


def test_digits_read_over_a_pause_are_one_card_number() -> None:
    t = transcript(
        utt(0, "agent", 0.0, "Can I have the card number?"),
        utt(1, "customer", 3.0, "four five three nine one four eight eight"),
        utt(2, "customer", 6.0, "zero three four three six four six seven"),
    )
    result = redaction.redact(t)
    assert [u.text for u in result.transcript.utterances[1:]] == ["[CARD_NUMBER]"] * 2
    assert {s.type for s in result.spans} == {"CARD_NUMBER"}


def test_only_the_chosen_types_are_redacted_and_none_when_off() -> None:
    t = transcript(
        utt(0, "customer", 0.0, "my card is 4539 1488 0343 6467 and email john.smith@gmail.com")
    )
    only_cards = redaction.redact(t, ("CARD_NUMBER",)).transcript.utterances[0].text
    assert only_cards == "my card is [CARD_NUMBER] and email john.smith@gmail.com"
    off = redaction.redact(t, ())
    assert off.transcript == t and off.spans == []


def test_a_ner_model_adds_names_and_places(tmp_path: Path) -> None:
    import spacy

    nlp = spacy.blank("en")  # a real spaCy pipeline built by hand, as spaCy's own tests do
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([  # type: ignore[attr-defined]
        {"label": "PERSON", "pattern": "Maria Lopez"},
        {"label": "GPE", "pattern": "Springfield"},
    ])  # fmt: skip
    nlp.to_disk(tmp_path / "ner")
    entities = redaction.load_ner(str(tmp_path / "ner"))  # loaded as a deployment names one
    assert entities is not None

    t = transcript(
        utt(0, "agent", 0.0, "What is your address?"),
        utt(1, "customer", 3.0, "I moved to Springfield, Maria Lopez moved too."),
        utt(2, "customer", 30.0, "Springfield is nice."),
    )
    texts = [u.text for u in redaction.redact(t, entities=entities).transcript.utterances]
    assert texts[1] == "I moved to [ADDRESS], [NAME] moved too."
    assert texts[2] == "Springfield is nice."  # a place with no address asked for is kept
    assert redaction.redact(t).transcript.utterances[1].text == t.utterances[1].text


def test_a_missing_ner_model_is_reported_and_the_rest_still_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    redaction.load_ner.cache_clear()
    with caplog.at_level("WARNING"):
        assert redaction.load_ner("no_such_spacy_pipeline") is None
    assert "no NER model 'no_such_spacy_pipeline'" in caplog.text
    assert "patterns only" in caplog.text


@pytest.mark.parametrize(
    ("match", "matched"),
    [
        ('"card number" BEFORE [CARD_NUMBER]', True),
        ('"it is [CARD_NUMBER]"', True),
        ("[card_number]", True),
        ('"it is [num]"', True),  # a redacted number is still a number
        ("[EMAIL]", False),
        ("card_number", False),  # only the tag, not a word spelt like it
        ("4539*", False),
    ],
)
def test_rules_match_the_tags(match: str, matched: bool) -> None:
    t = transcript(
        utt(0, "agent", 0.0, "Can I have the card number please?"),
        utt(1, "customer", 3.0, "Yes, it is 4539 1488 0343 6467."),
    )
    index = TranscriptIndex.build(redaction.redact(t).transcript.utterances)
    result = CompiledRule.compile("r", match, speaker="any").evaluate(index)
    assert result.matched is matched
    if matched and "BEFORE" in match:
        assert [h.speaker for h in result.hits] == ["agent", "customer"]


RULESET = """
name: payments
redact: {redact}
rules:
  - id: asked_for_card
    speaker: customer
    match: "[CARD_NUMBER]"
"""


def test_a_ruleset_overrides_the_types_and_unknown_tags_or_types_are_refused() -> None:
    settings = Settings()
    assert load_ruleset(RULESET.format(redact="off")).redaction_types(settings.redact) == ()
    chosen = load_ruleset(RULESET.format(redact="[email, card_number]"))
    assert chosen.redaction_types(settings.redact) == ("CARD_NUMBER", "EMAIL")
    assert load_ruleset(RULESET.replace("redact: {redact}\n", "")).redaction_types(("DOB",)) == (
        "DOB",
    )
    with pytest.raises(RulesetInvalid) as bad:
        load_ruleset(RULESET.format(redact="[CARD, EMAIL]"))
    assert "unknown redaction type(s) CARD" in str(bad.value.details)
    with pytest.raises(RulesetInvalid) as tag:
        load_ruleset(RULESET.format(redact="all").replace("[CARD_NUMBER]", "[CARD]"))
    assert "unknown tag '[CARD]'" in str(tag.value.details)


def test_the_setting_takes_types_all_or_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().redact == redaction.TYPES
    monkeypatch.setenv("SPEECHQA_REDACT", "off")
    assert Settings().redact == ()
    monkeypatch.setenv("SPEECHQA_REDACT", "email, Card_Number")
    assert Settings().redact == ("CARD_NUMBER", "EMAIL")
    monkeypatch.setenv("SPEECHQA_REDACT", "cards")
    with pytest.raises(ValueError, match="unknown redaction type"):
        Settings()


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if samples.size else 0.0


def read(path: Path) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        frames = [f.to_ndarray() for f in container.decode(stream)]
    # packed s16 stereo: (1, 2n) -> (n, 2)
    return np.concatenate(frames, axis=1).reshape(-1, 2), rate


def test_the_redacted_copy_is_silent_in_the_spans_and_untouched_elsewhere(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    settings.audio_dir.mkdir(parents=True)
    (settings.audio_dir / "card_payment.wav").write_bytes(
        (EXAMPLES / "card_payment.wav").read_bytes()
    )
    turns = [t for t in reference("card_payment")["turns"] if t["speaker"] == "customer"]
    spans = [(turns[1]["start"], turns[1]["end"]), (turns[4]["start"], turns[4]["end"])]
    silences = [Silence(start - 0.1, end + 0.1) for start, end in spans]  # every channel
    name = recordings.write_redacted(
        settings, EXAMPLES / "card_payment.wav", "card_payment.wav", silences
    )
    assert name == "card_payment.redacted.flac"
    original, rate = read(EXAMPLES / "card_payment.wav")
    redacted, redacted_rate = read(settings.audio_dir / name)
    assert redacted_rate == rate and redacted.shape == original.shape
    for start, end in spans:
        lo, hi = int(start * rate), int(end * rate)
        assert rms(original[lo:hi, 1]) > 1000  # the customer's speech was there
        assert rms(redacted[lo:hi]) == 0.0  # on both channels
    # elsewhere the copy is the recording, sample for sample (FLAC is lossless)
    lo, hi = int(turns[2]["start"] * rate), int(turns[2]["end"] * rate)
    assert np.array_equal(redacted[lo:hi], original[lo:hi])


KEPT_CALL = ROOT / "tests" / "data" / "card_expiry.wav"
"""A call kept aside for tests (scripts/make_sample_calls.py --test): the customer reads out a
card number, its expiry and a date of birth."""

HEARD = [
    ("agent", [("Can", 11.55, 11.55), ("I", 11.55, 11.59), ("have", 11.59, 11.85),
               ("the", 11.85, 11.99), ("long", 11.99, 12.29), ("card", 12.29, 12.65),
               ("number", 12.65, 13.07), ("please?", 13.07, 13.63)]),
    ("customer", [("Yes,", 14.3, 14.66), ("it", 14.92, 15.02), ("is", 15.02, 15.44),
                  ("4", 15.44, 15.54), (".5,", 15.54, 16.02), ("6,", 16.36, 16.76),
                  ("7,", 17.34, 17.58), ("3,", 17.6, 17.92), ("7,", 17.92, 18.3),
                  ("5,", 18.44, 18.9), ("8,", 19.28, 19.48), ("6,", 19.5, 19.88),
                  ("8,", 19.96, 20.22), ("9,", 20.3, 20.92), ("9,", 20.96, 21.32),
                  ("8,", 21.32, 21.62), ("5,", 21.7, 22.12)]),
    ("agent", [("Thank", 23.42, 23.52), ("you.", 23.52, 24.2)]),
    ("agent", [("And", 24.36, 24.54), ("when", 24.54, 24.68), ("does", 24.68, 24.96),
               ("the", 24.96, 25.18), ("card", 25.18, 25.42), ("expire?", 25.42, 26.16)]),
    ("customer", [("5.", 26.59, 26.71)]),
    ("customer", [("The", 26.71, 26.95), ("expiry", 26.95, 27.39), ("of", 27.39, 27.81),
                  ("9,", 27.81, 28.21), ("28.", 28.25, 28.79)]),
]  # fmt: skip
"""The words tiny.en hears in the kept call's first 30 s, with its times: they start and end a
few tenths of a second off ("is" runs over the first digit, whose onset is at about 15.1 s; the
last digit, "5,", ends at 22.12 s while the customer speaks to 22.46 s)."""


def heard_transcript() -> Transcript:
    utterances = [
        Utterance(i, speaker, ws[0][1], ws[-1][2], " ".join(w for w, _, _ in ws),
                  [Word(w, a, b, 0.9) for w, a, b in ws])
        for i, (speaker, ws) in enumerate(HEARD)
    ]  # fmt: skip
    return Transcript(
        duration_s=43.4,
        source_channels=2,
        channels={"left": "agent", "right": "customer"},
        language="en",
        utterances=utterances,
    )


def kept_neighbours(result: redaction.Redaction, span: redaction.RedactedSpan) -> tuple[Word, Word]:
    """The speaker's last kept word before the span and first kept word after it."""
    kept = [
        w
        for u in result.transcript.utterances
        if u.speaker == span.speaker
        for w in u.words
        if redaction.tag_type(w.word) is None
    ]
    before = max((w for w in kept if w.start < span.start), key=lambda w: w.end)
    after = min((w for w in kept if w.end > span.end), key=lambda w: w.start)
    return before, after


def test_the_copy_is_silent_from_the_kept_word_before_a_card_number_to_the_kept_word_after(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path)
    settings.audio_dir.mkdir(parents=True)
    result = redaction.redact(heard_transcript())
    assert result.transcript.utterances[1].text == "Yes, it is [CARD_NUMBER],"
    card = next(s for s in result.spans if s.type == "CARD_NUMBER")
    name = recordings.write_redacted(
        settings, KEPT_CALL, "card_expiry.wav", redaction.silences(result, 0.15)
    )
    original, rate = read(KEPT_CALL)
    redacted, _ = read(settings.audio_dir / name)

    def at(a: float, b: float) -> slice:
        return slice(int(a * rate), int(b * rate))

    before, after = kept_neighbours(result, card)
    assert (before.word, after.word) == ("is", "5.")
    gap = at(before.end, after.start)
    assert rms(original[gap, 1]) > 300 and rms(redacted[gap, 1]) == 0.0
    # the first digit's onset is inside "is" (which touches it), the last digit after "5,"
    for a, b in ((15.05, 15.44), (22.12, 22.46)):
        assert rms(original[at(a, b), 1]) > 300, (a, b)
        assert rms(redacted[at(a, b), 1]) == 0.0, (a, b)
    assert rms(redacted[at(14.0, 14.7), 1]) > 1000  # "Yes," is kept
    # The agent's line is silenced over the digits only, not over the gap the agent speaks in.
    agent = at(card.end + 0.15, after.start)
    assert rms(original[agent, 0]) > 300
    assert np.array_equal(redacted[agent, 0], original[agent, 0])
    assert rms(redacted[at(card.start - 0.15, card.end + 0.15), 0]) == 0.0


def test_silences_fall_back_to_the_speech_edge_and_are_everyones_in_a_mono_call() -> None:
    t = transcript(
        utt(0, "agent", 0.0, "What is your date of birth?"),
        utt(1, "customer", 3.0, "the fourteenth of March"),
    )
    t = replace(t, speech={"customer": [Interval(2.9, 5.4)], "agent": [Interval(0.0, 1.8)]})
    result = redaction.redact(t)
    (dob,) = result.spans
    assert (dob.start, dob.end) == (3.0, 3.0 + 3 * 0.3 + 0.25)
    # no kept word around it on the customer's line: silence to the ends of its speech
    line, every = redaction.silences(result, 0.15)
    assert (line.start, line.end, line.channel) == (2.85, 5.4, 1)
    assert (every.start, round(every.end, 3), every.channel) == (2.85, 4.3, None)
    mono = replace(result, transcript=replace(result.transcript, channels=None, source_channels=1))
    (one,) = redaction.silences(mono, 0.15)
    # the agent's "birth?" is a kept word on the one line: it bounds the silence
    assert (round(one.start, 3), one.channel) == (1.75, None)


@pytest.mark.slow
def test_the_kept_call_leaves_no_digit_in_its_text_or_in_what_its_silenced_copy_sounds_like(
    tmp_path: Path,
) -> None:
    """End to end on the kept call with the real model: what it hears, redacted, and what it
    hears again in the served copy."""
    from speechqa.pipeline.analysis import transcribe_call

    heard = transcribe_call(KEPT_CALL, Settings())
    said = " ".join(u.text for u in heard.utterances if u.speaker == "customer")
    assert "28" in said and "14th" in said and "1985" in said, said  # there is data to find
    result = redaction.redact(heard)
    spans = {s.type: s for s in result.spans if s.speaker == "customer"}
    assert set(spans) == {"CARD_NUMBER", "CARD_EXPIRY", "DOB"}, result.spans
    for span in spans.values():
        words = result.transcript.utterances[span.utterance].words
        left = [w.word for w in words if redaction.tag_type(w.word) is None]
        assert not [w for w in left if digit_like(w)], (span.type, left)
    dob = result.transcript.utterances[spans["DOB"].utterance]
    assert dob.text.endswith("is [DOB]."), dob.text  # "the 14th" inside the tag

    settings = Settings(data_dir=tmp_path)
    settings.audio_dir.mkdir(parents=True)
    name = recordings.write_redacted(
        settings, KEPT_CALL, "card_expiry.wav", redaction.silences(result, 0.15)
    )
    redacted, rate = read(settings.audio_dir / name)
    again = transcribe_call(settings.audio_dir / name, Settings())
    for span in spans.values():
        if span.type == "DOB":
            continue  # the customer's last words: no kept word after it
        before, after = kept_neighbours(result, span)
        gap = slice(int(before.end * rate), int(after.start * rate))
        assert rms(redacted[gap, 1]) == 0.0, span
    card = spans["CARD_NUMBER"]
    before, after = kept_neighbours(result, card)
    heard_again = [
        w.word
        for u in again.utterances
        if u.speaker == "customer"
        for w in u.words
        if w.end > before.start and w.start < after.start
    ]
    assert not [w for w in heard_again if digit_like(w)], heard_again


_HEARD_AS_DIGITS = {"oh", "o", "for", "to", "too", "won", "ate", "nought"}
"""What a digit's sound is written as when it is cut short ("four" heard as "for")."""


def digit_like(word: str) -> bool:
    w = word.strip(".,;:!?-").lower()
    return (
        any(c.isdigit() for c in w)
        or w in DIGITS
        or w in TEENS
        or w in TENS
        or w in _HEARD_AS_DIGITS
    )
