"""Word error rate of a transcript against reference text, with a light English normaliser.

Both sides are lower-cased, stripped of punctuation and have common contractions expanded, so
that "I'm" against "I am" is not counted as an error. Used by the tests and benchmarks.
"""

from __future__ import annotations

import re

from rapidfuzz.distance import Levenshtein

from speechqa.pipeline.numbers import DIGITS, TEENS, TENS

_CONTRACTIONS = {
    "i'm": "i am",
    "you're": "you are",
    "we're": "we are",
    "they're": "they are",
    "it's": "it is",
    "that's": "that is",
    "there's": "there is",
    "what's": "what is",
    "he's": "he is",
    "she's": "she is",
    "let's": "let us",
    "i've": "i have",
    "you've": "you have",
    "we've": "we have",
    "i'll": "i will",
    "you'll": "you will",
    "we'll": "we will",
    "it'll": "it will",
    "i'd": "i would",
    "you'd": "you would",
    "don't": "do not",
    "doesn't": "does not",
    "didn't": "did not",
    "can't": "cannot",
    "won't": "will not",
    "isn't": "is not",
    "aren't": "are not",
    "wasn't": "was not",
    "o'clock": "oclock",
    "mr": "mister",
    "mrs": "missus",
}
_WORD = re.compile(r"[a-z0-9']+")
_NUMBERS = DIGITS | TEENS | TENS


def normalize(text: str) -> list[str]:
    """Lower-cased words without punctuation, contractions expanded, numbers as digits.

    Whisper writes "press 1" in one window and "press one" in the next: a number said in words
    up to ninety-nine ("twenty five" too) becomes its digits, so the two spellings are equal.
    """
    words: list[str] = []
    for token in _WORD.findall(text.lower().replace("\u2019", "'")):
        token = token.strip("'")
        if token:
            words.extend(_CONTRACTIONS.get(token, token).split())
    return _digits(words)


def _digits(words: list[str]) -> list[str]:
    out: list[str] = []
    after_tens = False  # the previous word was "twenty".."ninety": "five" joins it
    for word in words:
        value = _NUMBERS.get(word)
        if value is not None and 0 < value < 10 and after_tens:
            out[-1] = str(int(out[-1]) + value)
        else:
            out.append(word if value is None else str(value))
        after_tens = word in TENS
    return out


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edit distance in words, number of reference words)."""
    ref, hyp = normalize(reference), normalize(hypothesis)
    return Levenshtein.distance(ref, hyp), len(ref)


def wer(reference: str, hypothesis: str) -> float:
    errors, n = word_errors(reference, hypothesis)
    return errors / n if n else float(bool(normalize(hypothesis)))
