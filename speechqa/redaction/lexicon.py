"""The words redaction listens for: cues that say what the next number is, the words of dates,
streets, e-mail domains and names, and the words that are never a name.

Plain data, tuned on the spoken-style cases of ``bench/redaction.py``; the finders read it.
"""

from __future__ import annotations

from collections.abc import Sequence

MONTHS = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec",
}  # fmt: skip
YEAR_WORDS = {"in", "since", "from", "until", "till", "of", "year", "by", "before", "after"}
"""Words before a year ("since 2015"): a four-digit number after them is no account number."""
DATE_FILLERS = {"of", "the", "slash", "/", "and", "st", "nd", "rd", "th"}
UNIT_WORDS = {
    "day", "days", "week", "weeks", "month", "months", "year", "years", "hour", "hours",
    "minute", "minutes", "dollars", "dollar", "pounds", "euros", "cents", "percent", "%",
    "o'clock", "am", "pm",
}  # fmt: skip
"""After a number, say it counts something ("expires in thirty days"): no month and year."""

TLDS = {
    "com", "net", "org", "edu", "gov", "io", "co", "uk", "us", "de", "fr", "ca", "au", "info",
    "biz", "me", "ie", "nl", "es", "it", "in",
}  # fmt: skip

STREET = {
    "street", "st", "avenue", "ave", "road", "rd", "lane", "ln", "drive", "dr", "boulevard",
    "blvd", "court", "ct", "way", "place", "close", "crescent", "terrace", "square", "highway",
    "parkway", "circle", "gardens", "grove", "hill", "row", "walk",
}  # fmt: skip

CUES: list[tuple[tuple[str, ...], str]] = [
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

MIN_DIGITS = {
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

NAME_CUES: list[tuple[str, ...]] = [
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
NAME_QUESTIONS: list[tuple[str, ...]] = [("your", "name"), ("full", "name"), ("who", "am", "i")]
NOT_NAMES = {
    "i", "yes", "yeah", "no", "sure", "okay", "ok", "it", "it's", "its", "my", "the", "that",
    "this", "hi", "hello", "thank", "thanks", "well", "so", "oh", "um", "uh", "and", "is", "of",
    "a", "an", "sorry", "please", "good", "great", "yep", "right", "alright", "of course",
    "certainly", "speaking", "calling", "here", "just", "mister", "mrs", "ms", "miss", "mr",
}  # fmt: skip


def by_first_word(phrases: Sequence[tuple[str, ...]]) -> dict[str, list[tuple[str, ...]]]:
    """Phrases under their first word, longest first: a position tries only its word's phrases."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for phrase in sorted(phrases, key=len, reverse=True):
        out.setdefault(phrase[0], []).append(phrase)
    return out


CUE_TYPES = {phrase: kind for phrase, kind in reversed(CUES)}
CUE_PHRASES = by_first_word(list(CUE_TYPES))
NAME_CUE_INDEX = by_first_word(NAME_CUES)
NAME_QUESTION_INDEX = by_first_word(NAME_QUESTIONS)
