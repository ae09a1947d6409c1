"""Names and places by a spaCy NER model, when the deployment installed one.

The patterns find names after "my name is"; a model finds every PERSON, and facilities and
places (the latter only after an address cue). The model loads lazily, once per process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import lru_cache

from speechqa.redaction.cues import Cue, cue_for
from speechqa.redaction.words import CallWord, Found

log = logging.getLogger(__name__)

Entities = Callable[[str], list[tuple[int, int, str]]]
"""An NER model as redaction uses it: text in, ``(start_char, end_char, label)`` out."""


def ner_spans(words: Sequence[CallWord], entities: Entities, said: Sequence[Cue]) -> list[Found]:
    """PERSON as NAME; places and facilities as ADDRESS (places only after an address cue)."""
    found = []
    by_utt: dict[int, list[int]] = {}
    for pos, w in enumerate(words):
        by_utt.setdefault(w.utt, []).append(pos)
    for positions in by_utt.values():
        text_parts, offsets, at = [], [], 0
        for p in positions:
            piece = words[p].text.strip()
            offsets.append((at, at + len(piece)))
            text_parts.append(piece)
            at += len(piece) + 1
        for start, end, label in entities(" ".join(text_parts)):
            if label == "PERSON":
                kind = "NAME"
            elif label == "FAC" or (
                label in ("GPE", "LOC")
                and cue_for(said, positions[0] + 1, words[positions[0]].start) == "ADDRESS"
            ):
                kind = "ADDRESS"
            else:
                continue
            hit = [p for p, (a, b) in zip(positions, offsets, strict=True) if a < end and b > start]
            if hit:
                found.append(Found(kind, hit[0], hit[-1]))
    return found


@lru_cache(maxsize=4)
def load_ner(name: str) -> Entities | None:
    """A spaCy pipeline with an ``ner`` component, by package name or path; None if missing.

    spaCy's trained pipelines (``en_core_web_sm``, MIT) are not on PyPI: a deployment installs
    one from spaCy's releases and names it in ``SPEECHQA_REDACTION_NER_MODEL``.
    """
    if not name:
        return None
    try:
        import spacy

        nlp = spacy.load(name, exclude=["lemmatizer", "parser", "tagger", "attribute_ruler"])
    except (OSError, ImportError) as exc:
        log.warning(
            "redaction: no NER model %r (%s); names and addresses are found by patterns only "
            "(install spaCy's en_core_web_sm to redact every name and place)",
            name,
            str(exc).splitlines()[0][:120],
        )
        return None

    def entities(text: str) -> list[tuple[int, int, str]]:
        return [(e.start_char, e.end_char, e.label_) for e in nlp(text).ents]

    log.info("redaction: names and places by the NER model %r", name)
    return entities
