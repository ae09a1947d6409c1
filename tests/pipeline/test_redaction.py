"""The redaction stage on words as ASR writes them, its settings, rules on tags, and the audio."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from speechqa.calls import recordings
from speechqa.contracts import Transcript, Utterance, Word
from speechqa.pipeline import redaction
from speechqa.rules.index import TranscriptIndex
from speechqa.rules.matching import CompiledRule
from speechqa.rules.ruleset import RulesetInvalid, load_ruleset
from speechqa.settings import Settings
from tests.support import EXAMPLES, reference


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
        ("I was born on the 14th of July, 1985.", "I was born on the [DOB]."),
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
    name = recordings.write_redacted(
        settings, EXAMPLES / "card_payment.wav", "card_payment.wav", spans, padding_s=0.1
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
