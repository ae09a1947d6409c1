"""Utterance stage: merge each speaker's timed words into utterances, ordered across speakers.

A speaker's words form one utterance until a pause of at least ``pause_s`` or the end of a
sentence. Utterances of different speakers are ordered by start time; overlapping speech stays
as two overlapping utterances.
"""

from __future__ import annotations

from collections.abc import Iterable

from speechqa.contracts import ChannelTranscript, Utterance, Word

_SENTENCE_END = (".", "?", "!")


def merge_words(channels: Iterable[ChannelTranscript], *, pause_s: float = 1.0) -> list[Utterance]:
    """Group words into utterances per speaker, then order them all by start time."""
    groups: list[tuple[str, list[Word]]] = []
    for channel in channels:
        current: list[Word] = []
        for word in sorted(channel.words, key=lambda w: (w.start, w.end)):
            if current and (
                word.start - current[-1].end >= pause_s or current[-1].word.endswith(_SENTENCE_END)
            ):
                groups.append((channel.speaker, current))
                current = []
            current.append(word)
        if current:
            groups.append((channel.speaker, current))
    groups.sort(key=lambda g: (g[1][0].start, g[1][-1].end, g[0]))
    return [
        Utterance(
            id=i,
            speaker=speaker,
            start=words[0].start,
            end=words[-1].end,
            text=" ".join(w.word for w in words),
            words=words,
        )
        for i, (speaker, words) in enumerate(groups)
    ]
