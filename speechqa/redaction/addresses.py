"""Street addresses by their pattern: a house number, up to three capitalised words and a
street word ("forty two Maple Avenue"), and the town and postcode after it."""

from __future__ import annotations

from collections.abc import Sequence

from speechqa.redaction.lexicon import STREET
from speechqa.redaction.spoken import number_value
from speechqa.redaction.words import CallWord, Found, capitalised


def address_spans(words: Sequence[CallWord]) -> list[Found]:
    """A house number, up to three capitalised words and a street word, and the town after it."""
    found = []
    i = 0
    while i < len(words):
        value = number_value(words, i)
        if value is None:
            i += 1
            continue
        start = i
        j = i + value[1]
        while j < len(words) and number_value(words, j) is not None and j - start < 6:
            j += number_value(words, j)[1]  # type: ignore[index]
        k = j
        while (
            k < len(words) and k - j < 3 and capitalised(words[k]) and words[k].norm not in STREET
        ):
            k += 1
        if (
            k > j
            and k < len(words)
            and words[k].norm in STREET
            and words[k].speaker == words[i].speaker
        ):
            last = k
            # ", Springfield" (and a postcode) in the same turn
            while (
                last + 1 < len(words)
                and words[last + 1].utt == words[k].utt
                and (capitalised(words[last + 1]) or number_value(words, last + 1) is not None)
                and last - k < 4
            ):
                last += 1
            found.append(Found("ADDRESS", start, last))
            i = last + 1
            continue
        i += 1
    return found
