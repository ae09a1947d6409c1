"""Text that people type and we store or show: what it may hold, and when two names look alike.

- No stored text holds a control character other than tab, line feed and carriage return, nor a
  lone surrogate: PostgreSQL refuses NUL in text, and the rest only hide or garble what a reader
  sees. :func:`disallowed_character` finds the first one, anywhere in a JSON value.
- A name (a user's) is compared as people see it. :func:`clean_name` puts it in NFC and refuses
  invisible characters (format characters such as zero-width spaces and bidi controls, spaces
  other than U+0020, fillers that draw nothing). :func:`skeleton` folds what only looks
  different: case, compatibility forms (fullwidth letters), and the Cyrillic and Greek
  letters drawn like Latin ones in :data:`LOOK_ALIKE` (a small table, after Unicode's
  confusables.txt; no confusables library is installed). Accents stay: ``José`` and ``Jose``
  are different names, ``José`` in NFC and in NFD the same one.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from speechqa.errors import InvalidInput

_DISALLOWED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
DISALLOWED_PATTERN = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
"""The same rule as a JSON Schema pattern (for the OpenAPI schema; surrogates aside)."""


def disallowed_character(value: Any, where: str = "") -> tuple[str, str] | None:
    """The first disallowed character in ``value`` (a string, or a JSON list or object, keys
    included), as (where, ``U+XXXX``); None when there is none."""
    if isinstance(value, str):
        found = _DISALLOWED.search(value)
        return (where, f"U+{ord(found.group()):04X}") if found else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{where}.{key}" if where else str(key)
            problem = disallowed_character(key, inner) or disallowed_character(item, inner)
            if problem:
                return problem
    elif isinstance(value, list | tuple):
        for n, item in enumerate(value):
            problem = disallowed_character(item, f"{where}[{n}]")
            if problem:
                return problem
    return None


_INVISIBLE = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800", "\u034f"}
"""Letters and marks that draw nothing (Hangul fillers, the Braille blank, the grapheme joiner)."""

_CYRILLIC_GREEK = "авеһіјкмнорстухѕԁԛԝӏүαβεηικνορτυχωϲϳμɡıȷℓ"
_AS_LATIN = "abehijkmhopctyxsdqwlyabenikvoptuxwcjugijl"
"""Cyrillic, then Greek, then Latin letters (lower case, as casefold leaves them), and the
Latin letter each is drawn like."""
LOOK_ALIKE = str.maketrans(_CYRILLIC_GREEK, _AS_LATIN)


def clean_name(name: str, what: str = "name") -> str:
    """``name`` in NFC without surrounding spaces; InvalidInput if it holds a character that
    cannot be seen (or is a control character)."""
    name = unicodedata.normalize("NFC", name).strip()
    for ch in name:
        category = unicodedata.category(ch)
        invisible = (
            category in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
            or (category == "Zs" and ch != " ")
            or ch in _INVISIBLE
        )
        if invisible:
            label = unicodedata.name(ch, "unassigned").lower()
            raise InvalidInput(
                f"A {what} may not hold invisible or control characters;"
                f" it holds U+{ord(ch):04X} ({label}).",
                details={"field": what, "character": f"U+{ord(ch):04X}"},
            )
    return name


def skeleton(name: str) -> str:
    """What ``name`` looks like: two names with the same skeleton are told apart by no one."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    decomposed = unicodedata.normalize("NFD", folded).translate(LOOK_ALIKE)
    return unicodedata.normalize("NFC", decomposed)
