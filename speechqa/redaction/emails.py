"""E-mail addresses, written ("john.smith@gmail.com") or spoken ("john dot smith at gmail dot
com"), and the answer to an e-mail cue that ends in a domain even when ASR lost its "at"."""

from __future__ import annotations

import re
from collections.abc import Sequence

from speechqa.redaction.cues import CUE_WINDOW_S, Cue
from speechqa.redaction.lexicon import NOT_NAMES, TLDS
from speechqa.redaction.words import CallWord, Found

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", re.IGNORECASE)


def email_spans(words: Sequence[CallWord]) -> list[Found]:
    """Addresses written whole, and spoken ones: a local part, "at", a domain with its TLD."""
    found = []
    for i, w in enumerate(words):
        if _EMAIL.search(w.text):
            found.append(Found("EMAIL", i, i))
            continue
        if w.norm not in ("at", "@") or i == 0 or i + 1 >= len(words):
            continue
        speaker = w.speaker
        # domain: "gmail dot com", "gmail.com", "acme dash shop dot co dot uk"
        j = i + 1
        if words[j].speaker != speaker:
            continue
        dotted = "." in words[j].norm and words[j].norm.rsplit(".", 1)[-1] in TLDS
        last = j
        while (
            last + 2 < len(words)
            and words[last + 1].norm in ("dot", ".", "dash", "hyphen")
            and words[last + 2].speaker == speaker
            and words[last + 2].norm.isalnum()
        ):
            last += 2
            if words[last - 1].norm in ("dot", ".") and words[last].norm in TLDS:
                dotted = True
        if not dotted:
            continue
        # local part: "john dot smith", "j smith", "john underscore smith 42"
        first = i - 1
        if not words[first].norm or words[first].speaker != speaker:
            continue
        if words[first].norm in NOT_NAMES | {"me", "us", "is", "address", "email", "e-mail"}:
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
        found.append(Found("EMAIL", first, last))
    return found


def answered_emails(
    words: Sequence[CallWord], said: Sequence[Cue], heard: Sequence[Found]
) -> list[Found]:
    """After an e-mail cue, the words up to a domain ending ("... dot com", "gmail.com"): ASR
    often mishears the "at" of a spoken address, but the asked-for answer is the address."""
    found = []
    for end, pos, kind in said:
        if kind != "EMAIL":
            continue
        for q in range(pos + 1, min(pos + 25, len(words))):
            w = words[q]
            if w.start - end > CUE_WINDOW_S:
                break
            raw = w.text.strip().lower().rstrip(".,;:!?")
            tld = raw.rsplit(".", 1)[-1] if "." in raw else None
            ends = (tld in TLDS) or (w.norm in TLDS and q > 0 and words[q - 1].norm in ("dot", "."))
            if not ends:
                continue
            if any(f.first <= q <= f.last for f in heard):
                break  # the address was heard whole
            # the answer: this speaker's words since the cue, leading "sure, it's" left out
            speaker = w.speaker
            first = q
            while first - 1 > pos and words[first - 1].speaker == speaker and q - first < 12:
                first -= 1
            while first < q and words[first].norm in NOT_NAMES | {"email", "address", "at"}:
                first += 1
            found.append(Found("EMAIL", first, q))
            break
    return found
