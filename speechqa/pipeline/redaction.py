"""Redaction stage: personal data in the words is replaced by its type before anything is stored.

PCI DSS forbids keeping card numbers in transcripts and recordings, and GDPR asks to keep no more
personal data than needed, so the worker runs this stage between transcription and storage:
search, the call document, exports, clips and webhooks then only ever see ``[CARD_NUMBER]``.

It works on what ASR writes when people read numbers out: digits written as numbers or as words
("four one one one", "double five", "oh"), teens, tens and hundreds ("nineteen eighty"), groups
that run over pauses and turns. A digit run is a card number when Luhn says so; otherwise its type
comes from the nearest cue before it, said by either party ("can I have your account number",
"date of birth", "security code", "the last four digits"). Spoken e-mail addresses
("john dot smith at gmail dot com"), street addresses ("forty two Maple Avenue") and names after
"my name is" are found by patterns; a spaCy NER model adds names and places when one is installed.

Each span becomes one word, ``[TYPE]``, from the first redacted word's start to the last one's
end, so the transcript stays aligned with the audio, and the spans (type, speaker, times) are
returned for the audio stage to silence.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from speechqa.contracts import REDACTION_TYPES, Silence, Transcript, Utterance, Word
from speechqa.pipeline.numbers import DIGITS, TEENS, TENS

if TYPE_CHECKING:  # the rules import this module for its tags
    from speechqa.rules.ruleset import Ruleset
    from speechqa.settings import Settings

log = logging.getLogger(__name__)

TYPES = REDACTION_TYPES
"""What can be redacted; settings and rulesets pick among these (all by default)."""

NUMERIC_TYPES = frozenset(
    {"CARD_NUMBER", "CARD_EXPIRY", "SECURITY_CODE", "ACCOUNT", "DOB", "SSN", "PHONE"}
)
"""Types that stand for a number: rules' ``[num]`` still matches their tags."""

TAG = re.compile(r"^\[([A-Z_]+)\]([.,;:!?]*)$")
"""A redacted word as stored: ``[CARD_NUMBER]``, possibly with the sentence's punctuation."""


@dataclass(frozen=True)
class RedactedSpan:
    """Where personal data was said: its type, who said it, when, and in which utterance."""

    type: str
    speaker: str
    start: float
    end: float
    utterance: int

    def as_dict(self) -> dict[str, object]:
        return {
            "type": self.type,
            "speaker": self.speaker,
            "start": self.start,
            "end": self.end,
            "utterance": self.utterance,
        }


@dataclass(frozen=True)
class Redaction:
    transcript: Transcript
    spans: list[RedactedSpan]


Entities = Callable[[str], list[tuple[int, int, str]]]
"""An NER model as this stage uses it: text in, ``(start_char, end_char, label)`` out."""


def tag_type(word: str) -> str | None:
    """The type of a redacted word (``"[DOB]."`` -> ``"DOB"``), None for any other word."""
    m = TAG.match(word)
    return m.group(1) if m and m.group(1) in TYPES else None


# -- numbers as ASR writes them ------------------------------------------------------------------

_UNITS = DIGITS | {"oh": 0, "o": 0, "nought": 0}  # a digit read out: "four oh one"
_TENS = {word: value // 10 for word, value in TENS.items()}  # the tens digit
_REPEAT = {"double": 2, "triple": 3}
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}  # fmt: skip
_MONTHS = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec",
}  # fmt: skip
_JOINERS = {"dash", "hyphen", "-", "/", "slash"}
"""Said between groups of a number without ending it."""
_YEAR_WORDS = {"in", "since", "from", "until", "till", "of", "year", "by", "before", "after"}
"""Words before a year ("since 2015"): a four-digit number after them is no account number."""
_DATE_FILLERS = {"of", "the", "slash", "/", "and", "st", "nd", "rd", "th"}
_UNIT_WORDS = {
    "day", "days", "week", "weeks", "month", "months", "year", "years", "hour", "hours",
    "minute", "minutes", "dollars", "dollar", "pounds", "euros", "cents", "percent", "%",
    "o'clock", "am", "pm",
}  # fmt: skip
"""After a number, say it counts something ("expires in thirty days"): no month and year."""

_DIGITS = re.compile(r"^[-.#(]?\d[\d\-./,() ]*\d?[)]?(st|nd|rd|th)?$")
"""A word of digits as ASR writes them: "4111", "4111-1111", "-3" and ".5" (read one by one)."""
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", re.IGNORECASE)
_TLDS = {
    "com", "net", "org", "edu", "gov", "io", "co", "uk", "us", "de", "fr", "ca", "au", "info",
    "biz", "me", "ie", "nl", "es", "it", "in",
}  # fmt: skip

_STREET = {
    "street", "st", "avenue", "ave", "road", "rd", "lane", "ln", "drive", "dr", "boulevard",
    "blvd", "court", "ct", "way", "place", "close", "crescent", "terrace", "square", "highway",
    "parkway", "circle", "gardens", "grove", "hill", "row", "walk",
}  # fmt: skip

_CUES: list[tuple[tuple[str, ...], str]] = [
    (("card", "number"), "CARD_NUMBER"),
    (("credit", "card"), "CARD_NUMBER"),
    (("debit", "card"), "CARD_NUMBER"),
    (("long", "number"), "CARD_NUMBER"),
    (("front", "of", "the", "card"), "CARD_NUMBER"),
    (("card",), "CARD_NUMBER"),
    (("expiry",), "CARD_EXPIRY"),
    (("expiry", "date"), "CARD_EXPIRY"),
    (("expiration",), "CARD_EXPIRY"),
    (("expiration", "date"), "CARD_EXPIRY"),
    (("expires",), "CARD_EXPIRY"),
    (("expire",), "CARD_EXPIRY"),
    (("expiring",), "CARD_EXPIRY"),
    (("exp",), "CARD_EXPIRY"),
    (("valid", "until"), "CARD_EXPIRY"),
    (("valid", "till"), "CARD_EXPIRY"),
    (("valid", "to"), "CARD_EXPIRY"),
    (("valid", "thru"), "CARD_EXPIRY"),
    (("valid", "through"), "CARD_EXPIRY"),
    (("good", "thru"), "CARD_EXPIRY"),
    (("good", "through"), "CARD_EXPIRY"),
    (("security", "code"), "SECURITY_CODE"),
    (("cvv",), "SECURITY_CODE"),
    (("cvc",), "SECURITY_CODE"),
    (("cv2",), "SECURITY_CODE"),
    (("three", "digit", "code"), "SECURITY_CODE"),
    (("back", "of", "the", "card"), "SECURITY_CODE"),
    (("pin",), "SECURITY_CODE"),
    (("account",), "ACCOUNT"),
    (("account", "number"), "ACCOUNT"),
    (("member", "number"), "ACCOUNT"),
    (("customer", "number"), "ACCOUNT"),
    (("membership", "number"), "ACCOUNT"),
    (("policy", "number"), "ACCOUNT"),
    (("sort", "code"), "ACCOUNT"),
    (("routing", "number"), "ACCOUNT"),
    (("iban",), "ACCOUNT"),
    (("last", "four"), "ACCOUNT"),
    (("last", "4"), "ACCOUNT"),
    (("date", "of", "birth"), "DOB"),
    (("birth", "date"), "DOB"),
    (("birthday",), "DOB"),
    (("born",), "DOB"),
    (("birth",), "DOB"),
    (("dob",), "DOB"),
    (("social", "security"), "SSN"),
    (("social",), "SSN"),
    (("ssn",), "SSN"),
    (("phone",), "PHONE"),
    (("telephone",), "PHONE"),
    (("mobile",), "PHONE"),
    (("cell",), "PHONE"),
    (("callback", "number"), "PHONE"),
    (("call", "back", "number"), "PHONE"),
    (("reach", "you"), "PHONE"),
    (("reach", "me"), "PHONE"),
    (("number", "to", "call"), "PHONE"),
    (("contact", "number"), "PHONE"),
    (("zip",), "ADDRESS"),
    (("postcode",), "ADDRESS"),
    (("post", "code"), "ADDRESS"),
    (("address",), "ADDRESS"),
    (("email",), "EMAIL"),
    (("e-mail",), "EMAIL"),
]
"""Words that say what the next number is, said by either party; longest phrase wins."""

_MIN_DIGITS = {
    "CARD_NUMBER": 4,
    "CARD_EXPIRY": 2,
    "SECURITY_CODE": 3,
    "ACCOUNT": 4,
    "DOB": 2,
    "SSN": 4,
    "PHONE": 7,
    "ADDRESS": 3,
    "EMAIL": 99,
}
"""The fewest digits a number needs to take its cue's type (a postcode, the last four...)."""

CUE_WINDOW_S = 25.0
"""A cue types the numbers said up to this long after it."""
RUN_GAP_S = 2.5
"""Digits said closer together than this (pauses between groups) form one number."""
UNCUED_DIGITS = 7
"""A number this long is redacted (as ``ACCOUNT``) even when nothing said what it is."""
AFTER_CARD_S = 10.0
"""A month and year said this soon after a card number, by its speaker, is the card's expiry."""

_NAME_CUES: list[tuple[str, ...]] = [
    ("my", "name", "is"),
    ("name", "is"),
    ("name's",),
    ("this", "is"),
    ("speaking", "with"),
    ("mister",),
    ("mr",),
    ("mrs",),
    ("ms",),
    ("miss",),
    ("doctor",),
    ("dr",),
    ("my", "wife"),
    ("my", "husband"),
    ("my", "son"),
    ("my", "daughter"),
    ("my", "colleague"),
    ("my", "manager"),
    ("spoke", "to"),
    ("spoke", "with"),
    ("speak", "to"),
    ("talked", "to"),
]
_NAME_QUESTIONS: list[tuple[str, ...]] = [("your", "name"), ("full", "name"), ("who", "am", "i")]
_NOT_NAMES = {
    "i", "yes", "yeah", "no", "sure", "okay", "ok", "it", "it's", "its", "my", "the", "that",
    "this", "hi", "hello", "thank", "thanks", "well", "so", "oh", "um", "uh", "and", "is", "of",
    "a", "an", "sorry", "please", "good", "great", "yep", "right", "alright", "of course",
    "certainly", "speaking", "calling", "here", "just", "mister", "mrs", "ms", "miss", "mr",
}  # fmt: skip


def _by_first_word(phrases: Sequence[tuple[str, ...]]) -> dict[str, list[tuple[str, ...]]]:
    """Phrases under their first word, longest first: a position tries only its word's phrases."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for phrase in sorted(phrases, key=len, reverse=True):
        out.setdefault(phrase[0], []).append(phrase)
    return out


_CUE_TYPES = {phrase: kind for phrase, kind in reversed(_CUES)}
_CUE_PHRASES = _by_first_word(list(_CUE_TYPES))
_NAME_CUE_INDEX = _by_first_word(_NAME_CUES)
_NAME_QUESTION_INDEX = _by_first_word(_NAME_QUESTIONS)


def _norm(word: str) -> str:
    return word.strip().strip(".,;:!?\"'()").lower()


@dataclass
class _W:
    """A word of the call in time order, with where it sits in the transcript."""

    utt: int
    idx: int
    speaker: str
    text: str
    norm: str
    start: float
    end: float


@dataclass
class _Num:
    digits: str
    first: int
    last: int
    cardinal: bool = True
    """False when only ordinals were said ("a second", "the 14th"): a date's day at most."""
    ends: list[tuple[int, int]] = field(default_factory=list)
    """(last word, digits so far) after each piece: where the number may be cut in two."""


def _ordinal(w: _W) -> bool:
    return (
        w.norm in _ORDINALS
        or w.norm.rpartition("-")[2] in _ORDINALS
        or bool(re.fullmatch(r"\d{1,2}(st|nd|rd|th)", w.norm))
    )


def _hyphenated(n: str) -> str | None:
    """The digits of a tens word joined to a unit or ordinal ("twenty-eight", "twenty-first")."""
    tens, _, unit = n.partition("-")
    if tens not in _TENS:
        return None
    if unit in DIGITS and unit != "zero":
        return f"{_TENS[tens]}{DIGITS[unit]}"
    if unit in _ORDINALS and _ORDINALS[unit] < 10:
        return f"{_TENS[tens]}{_ORDINALS[unit]}"
    return None


def _number_value(words: Sequence[_W], i: int) -> tuple[str, int] | None:
    """The digits that words[i:] start with, and how many words they take; None if no number."""
    n = words[i].norm
    raw = words[i].text.strip().rstrip(".,;:!?")
    if n in _REPEAT and i + 1 < len(words) and words[i + 1].norm in _UNITS:
        return str(_UNITS[words[i + 1].norm]) * _REPEAT[n], 2
    if n in _UNITS:
        return str(_UNITS[n]), 1
    if n in TEENS:
        return str(TEENS[n]), 1
    if n in _TENS:
        if (
            i + 1 < len(words)
            and words[i + 1].norm in _UNITS
            and words[i + 1].norm
            not in (
                "zero",
                "oh",
                "o",
                "nought",
            )
        ):
            return f"{_TENS[n]}{_UNITS[words[i + 1].norm]}", 2
        if (
            i + 1 < len(words)
            and words[i + 1].norm in _ORDINALS
            and _ORDINALS[words[i + 1].norm] < 10
        ):
            return f"{_TENS[n]}{_ORDINALS[words[i + 1].norm]}", 2
        return f"{_TENS[n]}0", 1
    if n in _ORDINALS:
        return str(_ORDINALS[n]), 1
    if (joined := _hyphenated(n)) is not None:
        return joined, 1
    if re.fullmatch(r"\d+-\w+", n) and not n.split("-")[1].isdigit():
        return None  # "2-for-1", "3-day"
    if _DIGITS.match(raw) and not raw.startswith("$") and "%" not in raw:
        digits = re.sub(r"\D", "", re.sub(r"(st|nd|rd|th)$", "", raw))
        if digits:
            return digits, 1
    return None


def _numbers(words: Sequence[_W]) -> list[_Num]:
    """Runs of digits one speaker said, across pauses and turns, with their word positions
    (ordinals alone too, marked: only a date takes them)."""
    runs: list[_Num] = []
    i = 0
    current: _Num | None = None
    while i < len(words):
        w = words[i]
        if current is not None and w.start - words[current.last].end > RUN_GAP_S:
            runs.append(current)
            current = None
        if w.norm in ("hundred", "thousand") and current is not None:
            zeros = 2 if w.norm == "hundred" else 3
            following = _number_value(words, i + 1) if i + 1 < len(words) else None
            if following is not None and words[i + 1].norm == "and" and i + 2 < len(words):
                following = _number_value(words, i + 2)
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
        value = _number_value(words, i)
        if value is not None:
            digits, used = value
            cardinal = not (used == 1 and _ordinal(w))
            if current is None:
                current = _Num(digits, i, i + used - 1, cardinal)
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
        while run.last > run.first and _number_value(words, run.last) is None:
            run.last -= 1
    return runs


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


# -- finding spans -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    type: str
    first: int
    """Position in the call's word list (time order)."""
    last: int


def _find_phrase(words: Sequence[_W], phrase: tuple[str, ...], at: int) -> bool:
    if words[at].norm != phrase[0] or at + len(phrase) > len(words):
        return False
    return all(words[at + k].norm == p for k, p in enumerate(phrase))


def _cues(words: Sequence[_W]) -> list[tuple[float, int, str]]:
    """(time, position, type) of each cue phrase, the longest phrase at a position winning."""
    out = []
    for i in range(len(words)):
        for phrase in _CUE_PHRASES.get(words[i].norm, ()):
            kind = _CUE_TYPES[phrase]
            if _find_phrase(words, phrase, i):
                out.append((words[i + len(phrase) - 1].end, i + len(phrase) - 1, kind))
                break
    return out


def _cue_before(
    cues: Sequence[tuple[float, int, str]], first: int, start: float
) -> tuple[float, int, str] | None:
    """The last cue said before position ``first`` (at ``start``), within the cue window."""
    best = None
    for cue in cues:
        if cue[1] < first and start - cue[0] <= CUE_WINDOW_S:
            best = cue
    return best


def _cue_for(cues: Sequence[tuple[float, int, str]], first: int, start: float) -> str | None:
    cue = _cue_before(cues, first, start)
    return cue[2] if cue else None


def _date_span(words: Sequence[_W], first: int, last: int, speaker: str) -> tuple[int, int]:
    """Widen a number said as a date to the whole date, its article included: "the 14th of
    March, 1985", "March the third", "the fourteenth"."""

    def datey(q: int) -> bool:
        w = words[q]
        return w.speaker == speaker and (
            w.norm in _MONTHS
            or w.norm in _ORDINALS
            or w.norm in _UNITS
            or w.norm in TEENS
            or w.norm in _TENS
            or w.norm in ("hundred", "thousand")
            or _number_value(words, q) is not None
        )

    while first > 0 and (
        datey(first - 1)
        or (words[first - 1].norm in _DATE_FILLERS and first > 1 and datey(first - 2))
    ):
        first -= 1
    while last + 1 < len(words) and (
        datey(last + 1)
        or (words[last + 1].norm in _DATE_FILLERS and last + 2 < len(words) and datey(last + 2))
    ):
        last += 1
    while words[first].norm in _DATE_FILLERS and first < last:
        first += 1
    if (
        first > 0
        and words[first - 1].norm == "the"
        and words[first - 1].speaker == speaker
        and _number_value(words, first) is not None
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


def _card_then_expiry(run: _Num) -> int | None:
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


def _number_spans(words: Sequence[_W], cues: Sequence[tuple[float, int, str]]) -> list[_Found]:
    found: list[_Found] = []
    by_speaker: dict[str, list[int]] = {}
    for pos, w in enumerate(words):
        by_speaker.setdefault(w.speaker, []).append(pos)
    for speaker, positions in by_speaker.items():
        stream = [words[p] for p in positions]
        card: tuple[int, float, bool] | None = None
        """This speaker's last card number: its last word in ``stream``, its end, whole (Luhn)."""
        for run in _numbers(stream):
            first, last = positions[run.first], positions[run.last]
            digits = run.digits
            said_cue = _cue_before(cues, first, words[first].start)
            cue = said_cue[2] if said_cue else None
            if not run.cardinal:
                # Ordinals alone ("the 14th", "fourteenth"): a birth date's day, given with its
                # month, or as "the fourteenth" straight after the question.
                if cue == "DOB" and said_cue is not None:
                    a, b = _date_span(words, first, last, speaker)
                    months = any(words[q].norm in _MONTHS for q in range(a, b + 1))
                    if months or (words[a].norm == "the" and first - said_cue[1] <= 4):
                        found.append(_Found("DOB", a, b))
                continue
            cut = _card_then_expiry(run)
            if cut is not None:
                rest = cut + 1
                while _number_value(stream, rest) is None:
                    rest += 1  # "slash", "dash" between the two
                found.append(_Found("CARD_NUMBER", first, positions[cut]))
                found.append(_Found("CARD_EXPIRY", positions[rest], last))
                card = (cut, stream[cut].end, True)
                continue
            after_month = first > 0 and words[first - 1].norm in _MONTHS
            year = (
                len(digits) == 4
                and 1900 <= int(digits) <= 2039
                and first > 0
                and words[first - 1].norm in _YEAR_WORDS
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
                unit = last + 1 < len(words) and words[last + 1].norm in _UNIT_WORDS
                kind = None if unit else "CARD_EXPIRY"
            elif after_card and _expiry_shaped(digits, after_month):
                kind = "CARD_EXPIRY"
            elif cue == "DOB" and (len(digits) >= _MIN_DIGITS["DOB"] or after_month):
                kind = "DOB"  # "three" alone is no date, "May 3" is
            elif cue is not None and len(digits) >= _MIN_DIGITS.get(cue, 99):
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
                found.append(_Found(kind, first, last))
    # A birth date said with the month first ("May fifth", "March the 14th").
    for end, pos, kind in cues:
        if kind != "DOB":
            continue
        for q in range(pos + 1, min(pos + 12, len(words))):
            if words[q].norm in _MONTHS and words[q].start - end <= CUE_WINDOW_S:
                if any(f.first <= q <= f.last for f in found):
                    break
                span = _date_span(words, q, q, words[q].speaker)
                if span != (q, q):
                    found.append(_Found("DOB", *span))
                break
    return found


def _email_spans(words: Sequence[_W]) -> list[_Found]:
    found = []
    for i, w in enumerate(words):
        if _EMAIL.search(w.text):
            found.append(_Found("EMAIL", i, i))
            continue
        if w.norm not in ("at", "@") or i == 0 or i + 1 >= len(words):
            continue
        speaker = w.speaker
        # domain: "gmail dot com", "gmail.com", "acme dash shop dot co dot uk"
        j = i + 1
        if words[j].speaker != speaker:
            continue
        dotted = "." in words[j].norm and words[j].norm.rsplit(".", 1)[-1] in _TLDS
        last = j
        while (
            last + 2 < len(words)
            and words[last + 1].norm in ("dot", ".", "dash", "hyphen")
            and words[last + 2].speaker == speaker
            and words[last + 2].norm.isalnum()
        ):
            last += 2
            if words[last - 1].norm in ("dot", ".") and words[last].norm in _TLDS:
                dotted = True
        if not dotted:
            continue
        # local part: "john dot smith", "j smith", "john underscore smith 42"
        first = i - 1
        if not words[first].norm or words[first].speaker != speaker:
            continue
        if words[first].norm in _NOT_NAMES | {"me", "us", "is", "address", "email", "e-mail"}:
            continue
        while (
            first - 2 >= 0
            and words[first - 1].norm in ("dot", ".", "underscore", "dash", "hyphen")
            and words[first - 2].speaker == speaker
            and words[first - 2].norm not in ("is", "email", "address", "e-mail")
        ):
            first -= 2
        while (
            first - 1 >= 0 and len(words[first - 1].norm) == 1 and words[first - 1].norm.isalpha()
        ):
            if words[first - 1].norm in ("a", "i"):
                break
            first -= 1
        found.append(_Found("EMAIL", first, last))
    return found


def _answered_emails(
    words: Sequence[_W], cues: Sequence[tuple[float, int, str]], said: Sequence[_Found]
) -> list[_Found]:
    """After an e-mail cue, the words up to a domain ending ("... dot com", "gmail.com"): ASR
    often mishears the "at" of a spoken address, but the asked-for answer is the address."""
    found = []
    for end, pos, kind in cues:
        if kind != "EMAIL":
            continue
        for q in range(pos + 1, min(pos + 25, len(words))):
            w = words[q]
            if w.start - end > CUE_WINDOW_S:
                break
            raw = w.text.strip().lower().rstrip(".,;:!?")
            tld = raw.rsplit(".", 1)[-1] if "." in raw else None
            ends = (tld in _TLDS) or (
                w.norm in _TLDS and q > 0 and words[q - 1].norm in ("dot", ".")
            )
            if not ends:
                continue
            if any(f.first <= q <= f.last for f in said):
                break  # the address was heard whole
            # the answer: this speaker's words since the cue, leading "sure, it's" left out
            speaker = w.speaker
            first = q
            while first - 1 > pos and words[first - 1].speaker == speaker and q - first < 12:
                first -= 1
            while first < q and words[first].norm in _NOT_NAMES | {"email", "address", "at"}:
                first += 1
            found.append(_Found("EMAIL", first, q))
            break
    return found


def _capitalised(w: _W) -> bool:
    t = w.text.strip().strip("\"'(")
    return bool(t) and t[0].isupper() and w.norm not in _NOT_NAMES and w.norm.isalpha()


def _address_spans(words: Sequence[_W]) -> list[_Found]:
    """A house number, up to three capitalised words and a street word, and the town after it."""
    found = []
    i = 0
    while i < len(words):
        value = _number_value(words, i)
        if value is None:
            i += 1
            continue
        start = i
        j = i + value[1]
        while j < len(words) and _number_value(words, j) is not None and j - start < 6:
            j += _number_value(words, j)[1]  # type: ignore[index]
        k = j
        while (
            k < len(words) and k - j < 3 and _capitalised(words[k]) and words[k].norm not in _STREET
        ):
            k += 1
        if (
            k > j
            and k < len(words)
            and words[k].norm in _STREET
            and words[k].speaker == words[i].speaker
        ):
            last = k
            # ", Springfield" (and a postcode) in the same turn
            while (
                last + 1 < len(words)
                and words[last + 1].utt == words[k].utt
                and (_capitalised(words[last + 1]) or _number_value(words, last + 1) is not None)
                and last - k < 4
            ):
                last += 1
            found.append(_Found("ADDRESS", start, last))
            i = last + 1
            continue
        i += 1
    return found


def _name_spans(words: Sequence[_W]) -> list[_Found]:
    found = []
    for i in range(len(words)):
        for cue in _NAME_CUE_INDEX.get(words[i].norm, ()):
            if not _find_phrase(words, cue, i):
                continue
            j = i + len(cue)
            k = j
            while k < len(words) and k - j < 3 and words[k].speaker == words[i].speaker:
                if not _capitalised(words[k]):
                    break
                k += 1
                if words[k - 1].text.rstrip()[-1:] in ".,?!;":
                    break  # "my name is Sarah. How..."
            if k > j:
                found.append(_Found("NAME", j, k - 1))
            break
        for question in _NAME_QUESTION_INDEX.get(words[i].norm, ()):
            if not _find_phrase(words, question, i):
                continue
            asker = words[i].speaker
            # the other party's next few words: "Sure, it is John Smith."
            answer = [
                p
                for p in range(i + len(question), min(i + 20, len(words)))
                if words[p].speaker != asker
            ][:6]
            run: list[int] = []
            for p in answer:
                if _capitalised(words[p]) and (not run or p == run[-1] + 1):
                    run.append(p)
                elif run:
                    break
            if run:
                found.append(_Found("NAME", run[0], run[-1]))
            break
    return found


def _ner_spans(
    words: Sequence[_W], entities: Entities, cues: Sequence[tuple[float, int, str]]
) -> list[_Found]:
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
                and _cue_for(cues, positions[0] + 1, words[positions[0]].start) == "ADDRESS"
            ):
                kind = "ADDRESS"
            else:
                continue
            hit = [p for p, (a, b) in zip(positions, offsets, strict=True) if a < end and b > start]
            if hit:
                found.append(_Found(kind, hit[0], hit[-1]))
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


def find(
    utterances: Sequence[Utterance],
    types: Collection[str] = TYPES,
    entities: Entities | None = None,
) -> list[RedactedSpan]:
    """The spans of personal data of ``types`` in the utterances, in time order, not overlapping."""
    words = [
        _W(ui, wi, u.speaker, w.word, _norm(w.word), w.start, w.end)
        for ui, u in enumerate(utterances)
        for wi, w in enumerate(u.words)
    ]
    words.sort(key=lambda w: (w.start, w.utt, w.idx))
    if not words:
        return []
    cues = _cues(words)
    emails = _email_spans(words)
    found = _number_spans(words, cues) + emails + _address_spans(words)
    found += _answered_emails(words, cues, emails)
    found += _name_spans(words)
    if entities is not None:
        found += _ner_spans(words, entities, cues)
    # Longer spans first, then the more specific (numbers and e-mail before names and places).
    rank = {t: k for k, t in enumerate(TYPES)}
    found.sort(key=lambda f: (-(f.last - f.first), rank[f.type]))
    taken: set[int] = set()
    kept: list[_Found] = []
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
        groups: dict[int, list[_W]] = {}
        for p in range(f.first, f.last + 1):
            w = words[p]
            if w.speaker == words[f.first].speaker:
                groups.setdefault(w.utt, []).append(w)
        for utt, ws in groups.items():
            spans.append(
                RedactedSpan(f.type, utterances[utt].speaker, ws[0].start, ws[-1].end, utt)
            )
    return spans


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
    """:func:`redact`, with the NER pipeline ``ner_model`` when names or places are wanted."""
    entities = load_ner(ner_model) if {"NAME", "ADDRESS"} & set(types) else None
    return redact(transcript, types, entities)


def redact_call(transcript: Transcript, ruleset: Ruleset, settings: Settings) -> Redaction | None:
    """Redact a call's transcript as its ruleset says (its ``redact:``, else the deployment's
    ``SPEECHQA_REDACT``); None when redaction is off for it. The worker and ``speechqa analyze``
    both redact through here, so they store and print the same words."""
    types = ruleset.redaction_types(settings.redact)
    return redact_with(transcript, types, settings.redaction_ner_model) if types else None


TOUCHING_S = 0.05
"""A kept word that ends (starts) this close to a span's start (end) touches it: ASR put no
pause between them, so where one ends inside the audio is not known."""


def silences(result: Redaction, padding_s: float) -> list[Silence]:
    """Where the redacted copy of the recording is silent, for each span.

    ASR word times are off by a few tenths of a second (the first digit's onset falls before
    its word), so the speaker's channel is silenced from the end of the last kept word before
    the span to the start of the first kept word after it; a kept word that touches the span is
    silenced too, as the boundary lies somewhere inside it. With no kept word on that side (the
    call's edges) the silence reaches to the edge of the speech VAD heard there. It is never
    less than the span's words ``padding_s`` wider on each side, which every channel gets as
    well, since the other party's line can carry an echo. In a mono call, or one whose channels
    carry the same mix, the one line is everyone's, so every word bounds it.
    """
    t = result.transcript
    sides = ("left", "right")
    channel: dict[str, int] = {}
    if t.channels and t.source_channels >= 2 and not t.identical_channels:
        channel = {role: sides.index(side) for side, role in t.channels.items() if side in sides}
    kept: dict[int | None, list[Word]] = {}
    for u in t.utterances:
        line = channel.get(u.speaker)
        for w in u.words:
            if tag_type(w.word) is None:
                kept.setdefault(line, []).append(w)
                if line is not None:
                    kept.setdefault(None, []).append(w)
    out: list[Silence] = []
    for span in result.spans:
        line = channel.get(span.speaker)
        start, end = max(0.0, span.start - padding_s), span.end + padding_s
        words = kept.get(line, [])
        speech = (
            t.speech.get(span.speaker, [])
            if line is not None
            else [iv for ivs in t.speech.values() for iv in ivs]
        )
        before = max((w for w in words if w.start < span.start), key=lambda w: w.end, default=None)
        after = min((w for w in words if w.end > span.end), key=lambda w: w.start, default=None)
        if before is None:
            lo = min((iv.start for iv in speech if iv.start <= span.start < iv.end), default=start)
        else:
            lo = before.start if before.end >= span.start - TOUCHING_S else before.end
        if after is None:
            hi = max((iv.end for iv in speech if iv.start < span.end <= iv.end), default=end)
        else:
            hi = after.end if after.start <= span.end + TOUCHING_S else after.start
        out.append(Silence(min(lo, start), max(hi, end), line))
        if line is not None:
            out.append(Silence(start, end, None))
    return out


def text(sentence: str, types: Collection[str] = TYPES, entities: Entities | None = None) -> str:
    """Redact one sentence (words spaced evenly), for the bench and quick checks."""
    tokens = sentence.split()
    words = [Word(t, k * 0.3, k * 0.3 + 0.25, 1.0) for k, t in enumerate(tokens)]
    utt = Utterance(0, "customer", 0.0, len(tokens) * 0.3, sentence, words)
    spans = find([utt], types, entities)
    return apply([utt], spans)[0].text
