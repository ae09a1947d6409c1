"""A call's transcript to download: plain text, JSON and WebVTT (captions for the recording).

Pure functions of the stored transcript, which is the redacted one where redaction is on (the
words the call page shows). Speakers are labelled as people read them (Agent, Customer,
Speaker 1); times are seconds from the start of the recording, as in the call document.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from speechqa.calls.document import CallHeader
from speechqa.contracts import Utterance
from speechqa.errors import InvalidInput

Format = Literal["txt", "json", "vtt"]
FORMATS: dict[str, tuple[str, str]] = {
    "txt": ("text/plain; charset=utf-8", "txt"),
    "json": ("application/json", "json"),
    "vtt": ("text/vtt; charset=utf-8", "vtt"),
}
"""Each format's media type and file extension."""


@dataclass(frozen=True)
class TranscriptFile:
    media_type: str
    filename: str
    body: str


def speaker_label(speaker: str) -> str:
    """``agent`` -> Agent, ``speaker_2`` -> Speaker 2."""
    match = re.fullmatch(r"speaker_(\d+)", speaker)
    if match:
        return f"Speaker {match.group(1)}"
    return speaker.replace("_", " ").capitalize() or "Unknown"


def clock(seconds: float) -> str:
    """m:ss.s for the text format (h:mm:ss.s past an hour)."""
    tenths = round(max(seconds, 0.0) * 10)
    h, rest = divmod(tenths, 36000)
    m, rest = divmod(rest, 600)
    s = rest / 10
    return f"{h}:{m:02d}:{s:04.1f}" if h else f"{m}:{s:04.1f}"


def vtt_time(seconds: float) -> str:
    """A WebVTT timestamp, hh:mm:ss.ttt."""
    ms = round(max(seconds, 0.0) * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def as_text(header: CallHeader, utterances: list[Utterance]) -> str:
    lines = [f"Call {header.external_id or header.id}"]
    who = header.agent_id or ""
    if header.agent_name:
        who = f"{header.agent_name} ({header.agent_id})"
    if who:
        lines.append(f"Agent: {who}" + (f", team {header.team}" if header.team else ""))
    if header.started_at is not None:
        lines.append(f"Started: {_utc(header.started_at)}")
    lines.append("")
    for u in utterances:
        lines.append(f"[{clock(u.start)}] {speaker_label(u.speaker)}: {_one_line(u.text)}")
    return "\n".join(lines) + "\n"


def as_json(header: CallHeader, utterances: list[Utterance]) -> str:
    body: dict[str, Any] = {
        "id": header.id,
        "external_id": header.external_id,
        "agent_id": header.agent_id,
        "agent_name": header.agent_name,
        "team": header.team,
        "started_at": header.started_at.isoformat() if header.started_at else None,
        "duration_s": header.duration_s,
        "language": header.language,
        "utterances": [
            {
                "id": u.id,
                "speaker": u.speaker,
                "label": speaker_label(u.speaker),
                "start": u.start,
                "end": u.end,
                "text": u.text,
                "words": [
                    {"word": w.word, "start": w.start, "end": w.end, "probability": w.probability}
                    for w in u.words
                ],
            }
            for u in utterances
        ],
    }
    return json.dumps(body, ensure_ascii=False, indent=2) + "\n"


def _cue_text(text: str) -> str:
    # A cue's text may not hold "-->" or a blank line; &, < and > are markup in WebVTT.
    text = _one_line(text).replace("-->", "->")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def as_webvtt(header: CallHeader, utterances: list[Utterance]) -> str:
    lines = ["WEBVTT", f"NOTE call {_note(header.external_id or header.id)}", ""]
    for n, u in enumerate(utterances, 1):
        start = max(u.start, 0.0)
        end = max(u.end, start + 0.001)  # a cue ends after it starts
        label = speaker_label(u.speaker).replace(">", "").replace("&", "and")
        lines += [
            str(n),
            f"{vtt_time(start)} --> {vtt_time(end)}",
            f"<v {label}>{_cue_text(u.text)}",
            "",
        ]
    return "\n".join(lines)


def _note(text: str) -> str:
    return _one_line(text).replace("-->", "->")


def _utc(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def export(header: CallHeader, utterances: list[Utterance], fmt: str) -> TranscriptFile:
    """The transcript in ``fmt`` (txt, json or vtt), with its media type and a file name."""
    if fmt not in FORMATS:
        raise InvalidInput(
            f"A transcript downloads as {', '.join(FORMATS)}.", details={"parameter": "format"}
        )
    render = {"txt": as_text, "json": as_json, "vtt": as_webvtt}[fmt]
    media_type, ext = FORMATS[fmt]
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", header.external_id or header.id)[:100]
    return TranscriptFile(media_type, f"{name}-transcript.{ext}", render(header, utterances))
