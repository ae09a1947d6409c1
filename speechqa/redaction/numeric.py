"""Numbers that are personal data: a card number when Luhn says so, else the type of the
nearest cue before it (expiry, security code, account, date of birth, SSN, phone), a long
number even uncued; dates widened to the whole date, a card read with its expiry cut in two.
"""

from __future__ import annotations

from collections.abc import Sequence

from speechqa.pipeline.numbers import TEENS
from speechqa.redaction.cues import CUE_WINDOW_S, Cue, cue_before
from speechqa.redaction.lexicon import DATE_FILLERS, MIN_DIGITS, MONTHS, UNIT_WORDS, YEAR_WORDS
from speechqa.redaction.spoken import (
    ORDINALS,
    TENS_DIGIT,
    UNITS,
    SpokenNumber,
    number_value,
    numbers,
)
from speechqa.redaction.words import CallWord, Found

UNCUED_DIGITS = 7
"""A number this long is redacted (as ``ACCOUNT``) even when nothing said what it is."""
AFTER_CARD_S = 10.0
"""A month and year said this soon after a card number, by its speaker, is the card's expiry."""


def luhn(digits: str) -> bool:
    """The Luhn check every payment card number passes."""
    if not digits.isdigit():
        return False
    total = 0
    for k, ch in enumerate(reversed(digits)):
        d = int(ch)
        if k % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _date_span(words: Sequence[CallWord], first: int, last: int, speaker: str) -> tuple[int, int]:
    """Widen a number said as a date to the whole date, its article included: "the 14th of
    March, 1985", "March the third", "the fourteenth"."""

    def datey(q: int) -> bool:
        w = words[q]
        return w.speaker == speaker and (
            w.norm in MONTHS
            or w.norm in ORDINALS
            or w.norm in UNITS
            or w.norm in TEENS
            or w.norm in TENS_DIGIT
            or w.norm in ("hundred", "thousand")
            or number_value(words, q) is not None
        )

    while first > 0 and (
        datey(first - 1)
        or (words[first - 1].norm in DATE_FILLERS and first > 1 and datey(first - 2))
    ):
        first -= 1
    while last + 1 < len(words) and (
        datey(last + 1)
        or (words[last + 1].norm in DATE_FILLERS and last + 2 < len(words) and datey(last + 2))
    ):
        last += 1
    while words[first].norm in DATE_FILLERS and first < last:
        first += 1
    if (
        first > 0
        and words[first - 1].norm == "the"
        and words[first - 1].speaker == speaker
        and number_value(words, first) is not None
    ):
        first -= 1  # "the 14th": the day's article is part of the date
    return first, last


def _expiry_shaped(digits: str, after_month: bool) -> bool:
    """Digits that read as a card's month and year: "09 28", "9 28", "12 2028"; after a month
    name ("September 28", "September 2028") the year alone."""
    if after_month:
        return len(digits) in (2, 4)
    if len(digits) in (3, 5):
        digits = "0" + digits
    if len(digits) not in (4, 6) or not 1 <= int(digits[:2]) <= 12:
        return False
    return len(digits) == 4 or digits[2:4] == "20"


def _card_then_expiry(run: SpokenNumber) -> int | None:
    """Where a run that is a card number followed at once by its expiry ("... 6467 09 28") is
    cut: the card's last word; None when the run is not that."""
    if luhn(run.digits):
        return None
    cuts = [
        (last, count)
        for last, count in run.ends
        if 13 <= count <= 19
        and luhn(run.digits[:count])
        and _expiry_shaped(run.digits[count:], after_month=False)
    ]
    if not cuts:
        return None
    return min(cuts, key=lambda cut: (cut[1] != 16, -cut[1]))[0]  # most cards have 16 digits


def number_spans(words: Sequence[CallWord], said: Sequence[Cue]) -> list[Found]:
    """The numbers that are personal data, each speaker's numbers read on their own."""
    found: list[Found] = []
    by_speaker: dict[str, list[int]] = {}
    for pos, w in enumerate(words):
        by_speaker.setdefault(w.speaker, []).append(pos)
    for speaker, positions in by_speaker.items():
        stream = [words[p] for p in positions]
        card: tuple[int, float, bool] | None = None
        """This speaker's last card number: its last word in ``stream``, its end, whole (Luhn)."""
        for run in numbers(stream):
            first, last = positions[run.first], positions[run.last]
            digits = run.digits
            said_cue = cue_before(said, first, words[first].start)
            cue = said_cue[2] if said_cue else None
            if not run.cardinal:
                # Ordinals alone ("the 14th", "fourteenth"): a birth date's day, given with its
                # month, or as "the fourteenth" straight after the question.
                if cue == "DOB" and said_cue is not None:
                    a, b = _date_span(words, first, last, speaker)
                    months = any(words[q].norm in MONTHS for q in range(a, b + 1))
                    if months or (words[a].norm == "the" and first - said_cue[1] <= 4):
                        found.append(Found("DOB", a, b))
                continue
            cut = _card_then_expiry(run)
            if cut is not None:
                rest = cut + 1
                while number_value(stream, rest) is None:
                    rest += 1  # "slash", "dash" between the two
                found.append(Found("CARD_NUMBER", first, positions[cut]))
                found.append(Found("CARD_EXPIRY", positions[rest], last))
                card = (cut, stream[cut].end, True)
                continue
            after_month = first > 0 and words[first - 1].norm in MONTHS
            year = (
                len(digits) == 4
                and 1900 <= int(digits) <= 2039
                and first > 0
                and words[first - 1].norm in YEAR_WORDS
            )
            if year and cue not in ("DOB", "CARD_EXPIRY"):
                continue
            after_card = (
                card is not None
                and cue in (None, "CARD_NUMBER", "CARD_EXPIRY")
                and words[first].start - card[1] <= AFTER_CARD_S
                and (card[2] or run.first > card[0] + 1)  # not the rest of a card read in parts
            )
            if 13 <= len(digits) <= 19 and luhn(digits):
                kind: str | None = "CARD_NUMBER"
            elif cue == "CARD_EXPIRY" and len(digits) > 6:
                # asked for with the card number ("the card number and expiry, please")
                kind = "CARD_NUMBER" if len(digits) >= 12 else "ACCOUNT"
            elif cue == "CARD_EXPIRY" and (len(digits) >= 2 or after_month):
                unit = last + 1 < len(words) and words[last + 1].norm in UNIT_WORDS
                kind = None if unit else "CARD_EXPIRY"
            elif after_card and _expiry_shaped(digits, after_month):
                kind = "CARD_EXPIRY"
            elif cue == "DOB" and (len(digits) >= MIN_DIGITS["DOB"] or after_month):
                kind = "DOB"  # "three" alone is no date, "May 3" is
            elif cue is not None and len(digits) >= MIN_DIGITS.get(cue, 99):
                kind = cue
            elif len(digits) >= UNCUED_DIGITS:
                kind = "ACCOUNT"
            else:
                kind = None
            if kind == "DOB":
                first, last = _date_span(words, first, last, speaker)
            elif kind == "CARD_EXPIRY" and after_month:
                first -= 1  # "September twenty twenty eight"
            elif kind == "CARD_NUMBER":
                card = (run.last, stream[run.last].end, luhn(digits))
            if kind is not None:
                found.append(Found(kind, first, last))
    # A birth date said with the month first ("May fifth", "March the 14th").
    for end, pos, kind in said:
        if kind != "DOB":
            continue
        for q in range(pos + 1, min(pos + 12, len(words))):
            if words[q].norm in MONTHS and words[q].start - end <= CUE_WINDOW_S:
                if any(f.first <= q <= f.last for f in found):
                    break
                span = _date_span(words, q, q, words[q].speaker)
                if span != (q, q):
                    found.append(Found("DOB", *span))
                break
    return found
