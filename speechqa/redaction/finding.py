"""Finding personal data in a call: every finder on the call's words, then one span per
stretch (longer and more specific finds first, none overlapping), in times per utterance."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from speechqa.contracts import Utterance
from speechqa.redaction.addresses import address_spans
from speechqa.redaction.cues import cues
from speechqa.redaction.emails import answered_emails, email_spans
from speechqa.redaction.names import name_spans
from speechqa.redaction.ner import Entities, ner_spans
from speechqa.redaction.numeric import number_spans
from speechqa.redaction.spans import RedactedSpan
from speechqa.redaction.tags import TYPES
from speechqa.redaction.words import CallWord, Found, call_words


def find(
    utterances: Sequence[Utterance],
    types: Collection[str] = TYPES,
    entities: Entities | None = None,
) -> list[RedactedSpan]:
    """The spans of personal data of ``types`` in the utterances, in time order, not overlapping."""
    words = call_words(utterances)
    if not words:
        return []
    said = cues(words)
    emails = email_spans(words)
    found = number_spans(words, said) + emails + address_spans(words)
    found += answered_emails(words, said, emails)
    found += name_spans(words)
    if entities is not None:
        found += ner_spans(words, entities, said)
    # Longer spans first, then the more specific (numbers and e-mail before names and places).
    rank = {t: k for k, t in enumerate(TYPES)}
    found.sort(key=lambda f: (-(f.last - f.first), rank[f.type]))
    taken: set[int] = set()
    kept: list[Found] = []
    for f in found:
        if f.type not in types:
            continue
        span = set(range(f.first, f.last + 1))
        if span & taken:
            continue
        taken |= span
        kept.append(f)
    spans = []
    for f in sorted(kept, key=lambda f: f.first):
        # A span may run over turns of one speaker: one entry per utterance it touches.
        groups: dict[int, list[CallWord]] = {}
        for p in range(f.first, f.last + 1):
            w = words[p]
            if w.speaker == words[f.first].speaker:
                groups.setdefault(w.utt, []).append(w)
        for utt, ws in groups.items():
            spans.append(
                RedactedSpan(f.type, utterances[utt].speaker, ws[0].start, ws[-1].end, utt)
            )
    return spans
