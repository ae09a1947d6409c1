"""The transcript rewrite: each span's words become one ``[TYPE]`` word over their times, so
the transcript stays aligned with the audio; and the entry point that finds and rewrites."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import replace

from speechqa.contracts import Transcript, Utterance, Word
from speechqa.redaction.finding import find
from speechqa.redaction.ner import Entities, load_ner
from speechqa.redaction.spans import RedactedSpan, Redaction
from speechqa.redaction.tags import TYPES


def apply(utterances: Sequence[Utterance], spans: Sequence[RedactedSpan]) -> list[Utterance]:
    """The utterances with each span's words replaced by one ``[TYPE]`` word over their times."""
    by_utt: dict[int, list[RedactedSpan]] = {}
    for s in spans:
        by_utt.setdefault(s.utterance, []).append(s)
    out = []
    for ui, u in enumerate(utterances):
        mine = by_utt.get(ui)
        if not mine:
            out.append(u)
            continue
        words: list[Word] = []
        for w in u.words:
            span = next((s for s in mine if s.start <= w.start and w.end <= s.end), None)
            if span is None:
                words.append(w)
                continue
            tail = re.search(r"[.,;:!?]*$", w.word.strip())
            punct = tail.group(0) if tail else ""
            tag = f"[{span.type}]"
            if words and words[-1].word.startswith(tag) and words[-1].start >= span.start:
                prev = words[-1]
                words[-1] = Word(
                    tag + punct, prev.start, w.end, min(prev.probability, w.probability)
                )
            else:
                words.append(Word(tag + punct, w.start, w.end, w.probability))
        out.append(replace(u, text=" ".join(w.word for w in words), words=words))
    return out


def redact(
    transcript: Transcript,
    types: Collection[str] = TYPES,
    entities: Entities | None = None,
) -> Redaction:
    """The transcript with personal data of ``types`` replaced by tags, and where it was said."""
    if not types:
        return Redaction(transcript, [])
    spans = find(transcript.utterances, types, entities)
    return Redaction(replace(transcript, utterances=apply(transcript.utterances, spans)), spans)


def redact_with(transcript: Transcript, types: Collection[str], ner_model: str) -> Redaction:
    """:func:`redact`, with the NER pipeline ``ner_model`` when names or places are wanted.

    The one entry point of the worker and ``speechqa analyze``: they choose ``types`` for the
    call (``Ruleset.redaction_types``) and skip redaction when there are none.
    """
    entities = load_ner(ner_model) if {"NAME", "ADDRESS"} & set(types) else None
    return redact(transcript, types, entities)


def text(sentence: str, types: Collection[str] = TYPES, entities: Entities | None = None) -> str:
    """Redact one sentence (words spaced evenly), for the bench and quick checks."""
    tokens = sentence.split()
    words = [Word(t, k * 0.3, k * 0.3 + 0.25, 1.0) for k, t in enumerate(tokens)]
    utt = Utterance(0, "customer", 0.0, len(tokens) * 0.3, sentence, words)
    spans = find([utt], types, entities)
    return apply([utt], spans)[0].text
