"""Cues: where either party said what the next number is ("can I have your account number",
"date of birth", "the last four digits"), and which cue a later number answers."""

from __future__ import annotations

from collections.abc import Sequence

from speechqa.redaction.lexicon import CUE_PHRASES, CUE_TYPES
from speechqa.redaction.words import CallWord, find_phrase

Cue = tuple[float, int, str]
"""(time, position, type): when the cue's last word ended, where it is, the type it names."""

CUE_WINDOW_S = 25.0
"""A cue types the numbers said up to this long after it."""


def cues(words: Sequence[CallWord]) -> list[Cue]:
    """(time, position, type) of each cue phrase, the longest phrase at a position winning."""
    out = []
    for i in range(len(words)):
        for phrase in CUE_PHRASES.get(words[i].norm, ()):
            kind = CUE_TYPES[phrase]
            if find_phrase(words, phrase, i):
                out.append((words[i + len(phrase) - 1].end, i + len(phrase) - 1, kind))
                break
    return out


def cue_before(said: Sequence[Cue], first: int, start: float) -> Cue | None:
    """The last cue said before position ``first`` (at ``start``), within the cue window."""
    best = None
    for cue in said:
        if cue[1] < first and start - cue[0] <= CUE_WINDOW_S:
            best = cue
    return best


def cue_for(said: Sequence[Cue], first: int, start: float) -> str | None:
    """The type that cue names, None when no cue came before."""
    cue = cue_before(said, first, start)
    return cue[2] if cue else None
