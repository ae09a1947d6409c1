"""Numbers as ASR writes them when people read them out: digits as words or as numbers ("four
one one one", "4111"), "double five", "oh", teens, tens and hundreds ("nineteen eighty"),
ordinals ("the fourteenth"), groups that run over pauses and turns.

The number words themselves are :mod:`speechqa.pipeline.numbers`' tables, shared with WER.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from speechqa.pipeline.numbers import DIGITS, TEENS, TENS
from speechqa.redaction.words import CallWord

UNITS = DIGITS | {"oh": 0, "o": 0, "nought": 0}  # a digit read out: "four oh one"
TENS_DIGIT = {word: value // 10 for word, value in TENS.items()}  # the tens digit
_REPEAT = {"double": 2, "triple": 3}
ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}
_JOINERS = {"dash", "hyphen", "-", "/", "slash"}
"""Said between groups of a number without ending it."""

_DIGITS = re.compile(r"^[-.#(]?\d[\d\-./,() ]*\d?[)]?(st|nd|rd|th)?$")
"""A word of digits as ASR writes them: "4111", "4111-1111", "-3" and ".5" (read one by one)."""

RUN_GAP_S = 2.5
"""Digits said closer together than this (pauses between groups) form one number."""


@dataclass
class SpokenNumber:
    """A run of digits, from its first word to its last (positions in the words read)."""

    digits: str
    first: int
    last: int
    cardinal: bool = True
    """False when only ordinals were said ("a second", "the 14th"): a date's day at most."""
    ends: list[tuple[int, int]] = field(default_factory=list)
    """(last word, digits so far) after each piece: where the number may be cut in two."""


def _ordinal(w: CallWord) -> bool:
    return (
        w.norm in ORDINALS
        or w.norm.rpartition("-")[2] in ORDINALS
        or bool(re.fullmatch(r"\d{1,2}(st|nd|rd|th)", w.norm))
    )


def _hyphenated(n: str) -> str | None:
    """The digits of a tens word joined to a unit or ordinal ("twenty-eight", "twenty-first")."""
    tens, _, unit = n.partition("-")
    if tens not in TENS_DIGIT:
        return None
    if unit in DIGITS and unit != "zero":
        return f"{TENS_DIGIT[tens]}{DIGITS[unit]}"
    if unit in ORDINALS and ORDINALS[unit] < 10:
        return f"{TENS_DIGIT[tens]}{ORDINALS[unit]}"
    return None


def number_value(words: Sequence[CallWord], i: int) -> tuple[str, int] | None:
    """The digits that words[i:] start with, and how many words they take; None if no number."""
    n = words[i].norm
    raw = words[i].text.strip().rstrip(".,;:!?")
    if n in _REPEAT and i + 1 < len(words) and words[i + 1].norm in UNITS:
        return str(UNITS[words[i + 1].norm]) * _REPEAT[n], 2
    if n in UNITS:
        return str(UNITS[n]), 1
    if n in TEENS:
        return str(TEENS[n]), 1
    if n in TENS_DIGIT:
        if (
            i + 1 < len(words)
            and words[i + 1].norm in UNITS
            and words[i + 1].norm
            not in (
                "zero",
                "oh",
                "o",
                "nought",
            )
        ):
            return f"{TENS_DIGIT[n]}{UNITS[words[i + 1].norm]}", 2
        if (
            i + 1 < len(words)
            and words[i + 1].norm in ORDINALS
            and ORDINALS[words[i + 1].norm] < 10
        ):
            return f"{TENS_DIGIT[n]}{ORDINALS[words[i + 1].norm]}", 2
        return f"{TENS_DIGIT[n]}0", 1
    if n in ORDINALS:
        return str(ORDINALS[n]), 1
    if (joined := _hyphenated(n)) is not None:
        return joined, 1
    if re.fullmatch(r"\d+-\w+", n) and not n.split("-")[1].isdigit():
        return None  # "2-for-1", "3-day"
    if _DIGITS.match(raw) and not raw.startswith("$") and "%" not in raw:
        digits = re.sub(r"\D", "", re.sub(r"(st|nd|rd|th)$", "", raw))
        if digits:
            return digits, 1
    return None


def numbers(words: Sequence[CallWord]) -> list[SpokenNumber]:
    """Runs of digits one speaker said, across pauses and turns, with their word positions
    (ordinals alone too, marked: only a date takes them)."""
    runs: list[SpokenNumber] = []
    i = 0
    current: SpokenNumber | None = None
    while i < len(words):
        w = words[i]
        if current is not None and w.start - words[current.last].end > RUN_GAP_S:
            runs.append(current)
            current = None
        if w.norm in ("hundred", "thousand") and current is not None:
            zeros = 2 if w.norm == "hundred" else 3
            following = number_value(words, i + 1) if i + 1 < len(words) else None
            if following is not None and words[i + 1].norm == "and" and i + 2 < len(words):
                following = number_value(words, i + 2)
            if following is not None and len(following[0]) <= zeros:
                current.digits += following[0].rjust(zeros, "0")
                step = following[1] + (2 if words[i + 1].norm == "and" else 1)
                current.last = i + step - 1
                i += step
            else:
                current.digits += "0" * zeros
                current.last = i
                i += 1
            current.ends.append((current.last, len(current.digits)))
            continue
        value = number_value(words, i)
        if value is not None:
            digits, used = value
            cardinal = not (used == 1 and _ordinal(w))
            if current is None:
                current = SpokenNumber(digits, i, i + used - 1, cardinal)
            else:
                current.digits += digits
                current.last = i + used - 1
                current.cardinal = current.cardinal or cardinal
            current.ends.append((current.last, len(current.digits)))
            i += used
            continue
        if current is not None and (w.norm in _JOINERS or w.norm == ""):
            i += 1
            continue
        if current is not None:
            runs.append(current)
            current = None
        i += 1
    if current is not None:
        runs.append(current)
    # Trailing joiners are not part of the number.
    for run in runs:
        while run.last > run.first and number_value(words, run.last) is None:
            run.last -= 1
    return runs
