"""A call's transcript downloaded as text, JSON and WebVTT: speaker labels, the stored (redacted)
words, and WebVTT a player accepts (header, hh:mm:ss.ttt cues that end after they start, no
markup or arrows leaking from the text)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from speechqa.calls.document import CallHeader
from speechqa.calls.transcript_export import export, speaker_label, vtt_time
from speechqa.contracts import Utterance
from speechqa.errors import InvalidInput
from tests.support import reference_transcript

HEADER = CallHeader(id="c1", status="done", external_id="pbx-991", agent_id="a-17",
                    agent_name="Ann Smith", team="billing",
                    started_at=datetime(2026, 11, 24, 9, 14, tzinfo=UTC))  # fmt: skip
CUE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})$")


def _seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


@pytest.mark.parametrize(("speaker", "label"), [("agent", "Agent"), ("customer", "Customer"),
                                                 ("speaker_2", "Speaker 2")])  # fmt: skip
def test_speakers_are_labelled_as_people_read_them(speaker: str, label: str) -> None:
    assert speaker_label(speaker) == label


def test_webvtt_of_a_sample_call_is_valid() -> None:
    turns = reference_transcript("billing_refund").utterances
    tricky = Utterance(len(turns), "customer", 3725.5, 3725.5, "a <b> & c --> d\n\nnext")
    text = export(HEADER, [*turns, tricky], "vtt").body
    blocks = text.strip("\n").split("\n\n")
    assert blocks[0].startswith("WEBVTT\n")
    cues = blocks[1:]
    assert len(cues) == len(turns) + 1
    for n, cue in enumerate(cues, 1):
        number, timing, payload = cue.split("\n")
        assert number == str(n)
        match = CUE.match(timing)
        assert match, timing
        start, end = _seconds(*match.groups()[:4]), _seconds(*match.groups()[4:])
        assert end > start
        assert payload.startswith(("<v Agent>", "<v Customer>")) and "-->" not in payload
    assert cues[-1].split("\n")[2] == "<v Customer>a &lt;b&gt; &amp; c -&gt; d next"
    assert vtt_time(3725.5) == "01:02:05.500"
    assert turns[0].text in cues[0]


def test_text_and_json_hold_the_labels_times_and_words() -> None:
    turns = reference_transcript("billing_refund").utterances
    text = export(HEADER, turns, "txt")
    assert text.filename == "pbx-991-transcript.txt" and text.media_type.startswith("text/plain")
    lines = text.body.splitlines()
    assert lines[:3] == ["Call pbx-991", "Agent: Ann Smith (a-17), team billing",
                         "Started: 2026-11-24 09:14 UTC"]  # fmt: skip
    assert lines[4].startswith("[0:0") and f"Agent: {turns[0].text}" in lines[4]
    doc = json.loads(export(HEADER, turns, "json").body)
    assert doc["external_id"] == "pbx-991" and len(doc["utterances"]) == len(turns)
    first = doc["utterances"][0]
    assert first["label"] == "Agent" and first["text"] == turns[0].text and first["words"]
    with pytest.raises(InvalidInput):
        export(HEADER, turns, "docx")
