"""Redaction tags: the ``[TYPE]`` words that stand where personal data was said, and their types.

The lowest layer of redaction: the finders write these words and the rule index reads them
(``[CARD_NUMBER]`` as one token, and ``[num]`` on the numeric ones), so it imports nothing but the
data contracts, where the type names themselves live (settings and the rule syntax check them).
"""

from __future__ import annotations

import re

from speechqa.contracts import REDACTION_TYPES

TYPES = REDACTION_TYPES
"""What can be redacted; settings and rulesets pick among these (all by default). Of two
overlapping finds of one length, the earlier type here is kept."""

NUMERIC_TYPES = frozenset(
    {"CARD_NUMBER", "CARD_EXPIRY", "SECURITY_CODE", "ACCOUNT", "DOB", "SSN", "PHONE"}
)
"""Types that stand for a number: rules' ``[num]`` still matches their tags."""

TAG = re.compile(r"^\[([A-Z_]+)\]([.,;:!?]*)$")
"""A redacted word as stored: ``[CARD_NUMBER]``, possibly with the sentence's punctuation."""


def tag_type(word: str) -> str | None:
    """The type of a redacted word (``"[DOB]."`` -> ``"DOB"``), None for any other word."""
    m = TAG.match(word)
    return m.group(1) if m and m.group(1) in TYPES else None
