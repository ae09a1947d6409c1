"""A call's timeline, as the call page draws it: who talks when, the silences and the overtalk,
and where each rule hit; times in seconds, positions as shares of the call.

The spans come from the same functions as the conversation metrics (so the picture and the
numbers agree), the hits from the call document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from speechqa.calls.document import CallDocument
from speechqa.pipeline.conversation import bridge, overtalk, silences

SILENCE_MIN_S = 3.0


@dataclass(frozen=True)
class Mark:
    kind: str
    """talk, silence, overtalk or hit."""
    start: float
    end: float
    left: float
    """Where it starts, as a percentage of the call."""
    width: float
    """How long it lasts, as a percentage of the call (at least a sliver, so it shows)."""
    speaker: str | None = None
    label: str = ""


@dataclass(frozen=True)
class Timeline:
    duration_s: float
    rows: dict[str, list[Mark]] = field(default_factory=dict)
    """talk per speaker, then "silence", "overtalk" and "hits"."""


def timeline(doc: CallDocument, speech: dict[str, Any] | None) -> Timeline:
    """The timeline of a call document (``speech``: the call's VAD intervals per role)."""
    duration = float(doc.duration_s or 0.0) or max((u.end for u in doc.utterances), default=0.0)
    if duration <= 0:
        return Timeline(0.0)

    def mark(
        kind: str, start: float, end: float, speaker: str | None = None, label: str = ""
    ) -> Mark:
        left = max(0.0, min(100.0, 100 * start / duration))
        width = max(0.4, min(100.0 - left, 100 * (end - start) / duration))
        return Mark(
            kind, round(start, 2), round(end, 2), round(left, 3), round(width, 3), speaker, label
        )

    rows: dict[str, list[Mark]] = {}
    if speech:
        for role in sorted(speech):
            rows[role] = [mark("talk", a, b, role) for a, b in bridge(speech[role], 1.0)]
        rows["silence"] = [
            mark("silence", a, b, None, f"{b - a:.1f} s of silence")
            for a, b in silences(speech, duration, SILENCE_MIN_S)
        ]
        rows["overtalk"] = [mark("overtalk", a, b, None, "both talk") for a, b in overtalk(speech)]
    else:  # no voice-activity data: the turns are the talk
        for u in doc.utterances:
            rows.setdefault(u.speaker, []).append(mark("talk", u.start, u.end, u.speaker))
    rows["hits"] = [
        mark("hit", h.start, h.end, h.speaker, f"{rule.id}: {h.text}")
        for rule in doc.rules
        for h in rule.hits
    ]
    return Timeline(round(duration, 2), rows)
