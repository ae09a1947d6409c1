"""Transcript index: the words of a call as normalised tokens with lemmas, ready for matching.

spaCy's English tokenizer splits each utterance (so "can't" is "ca" + "n't" on both sides of a
match) and a lookup lemmatizer (spaCy's tables from ``spacy-lookups-data``: no model, no
network) gives each token its lemma, so ``cancel`` finds "cancelled". Every token keeps the
utterance and Whisper word it came from, so a hit can say exactly which words matched, and when.
The index is built once per transcript and serves every rule of every ruleset.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from speechqa.contracts import Utterance
from speechqa.redaction.tags import NUMERIC_TYPES, tag_type


@dataclass(frozen=True)
class Token:
    utterance: int
    """Position of the utterance in the transcript."""
    word: int
    """Index of the Whisper word (in that utterance) the token comes from."""
    lower: str
    lemma: str
    is_num: bool
    start: float
    end: float
    probability: float = 1.0
    """The ASR's confidence in the Whisper word the token comes from (0..1)."""


class _Language:
    """spaCy's blank English tokenizer and the English lemma lookup table, loaded once."""

    def __init__(self) -> None:
        import spacy
        from spacy.lookups import load_lookups

        self.nlp = spacy.blank("en")
        self.table = load_lookups("en", ["lemma_lookup"]).get_table("lemma_lookup")
        self._cache: dict[str, str] = {}

    def lemma(self, lower: str) -> str:
        found = self._cache.get(lower)
        if found is None:
            found = str(self.table.get(lower, lower)).lower()
            self._cache[lower] = found
        return found


_lock = threading.Lock()


@lru_cache(maxsize=1)
def language() -> _Language:
    with _lock:
        return _Language()


@lru_cache(maxsize=200_000)
def word_tokens(word: str) -> tuple[tuple[str, str, bool], ...]:
    """(lower, lemma, is_number) of each token of one transcript word, punctuation dropped.

    A redaction tag (``[CARD_NUMBER]``) is one token, ``[card_number]``, that a rule names as
    written; the tags of numbers (card, account, date of birth...) are also numbers to ``[num]``.
    """
    kind = tag_type(word.strip())
    if kind is not None:
        tag = f"[{kind.lower()}]"
        return ((tag, tag, kind in NUMERIC_TYPES),)
    lang = language()
    return tuple(
        (t.lower_, lang.lemma(t.lower_), bool(t.like_num) or t.lower_.strip("$%").isdigit())
        for t in lang.nlp.make_doc(word)
        if not (t.is_punct or t.is_space)
    )


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens of a phrase, split as transcripts are (punctuation dropped)."""
    if tag_type(text.strip().upper()) is not None:
        return [text.strip().lower()]
    return [t.lower_ for t in language().nlp.make_doc(text) if not (t.is_punct or t.is_space)]


@dataclass
class TranscriptIndex:
    utterances: Sequence[Utterance]
    duration_s: float
    tokens: list[Token] = field(default_factory=list)
    by_lower: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_lemma: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    numbers: list[int] = field(default_factory=list)
    vocabulary: list[str] = field(default_factory=list)
    cache: dict[Any, frozenset[int]] = field(default_factory=dict)

    @classmethod
    def build(
        cls, utterances: Sequence[Utterance], duration_s: float | None = None
    ) -> TranscriptIndex:
        end = max((u.end for u in utterances), default=0.0)
        index = cls(utterances, duration_s if duration_s else end)
        tokens, by_lower, by_lemma, numbers = (
            index.tokens,
            index.by_lower,
            index.by_lemma,
            index.numbers,
        )
        for ui, utt in enumerate(utterances):
            for wi, word in enumerate(utt.words):
                # spaCy splits text on spaces before anything else, so a word's tokens are the
                # same alone as in its sentence: tokenize each distinct word once.
                for lower, lemma, is_num in word_tokens(word.word):
                    at = len(tokens)
                    tokens.append(
                        Token(ui, wi, lower, lemma, is_num, word.start, word.end, word.probability)
                    )
                    by_lower[lower].append(at)
                    by_lemma[lemma].append(at)
                    if is_num:
                        numbers.append(at)
        index.vocabulary = sorted(by_lower)
        return index

    def positions(self, kind: str, text: str, fuzzy: int = 0) -> frozenset[int]:
        """Token positions a term matches: exact form or lemma, prefix, number, or fuzzy form."""
        key = (kind, text, fuzzy)
        found = self.cache.get(key)
        if found is not None:
            return found
        if kind == "number":
            result: set[int] = set(self.numbers)
        elif kind == "prefix":
            lo = bisect.bisect_left(self.vocabulary, text)
            hi = bisect.bisect_left(self.vocabulary, text + "\uffff")
            result = {p for form in self.vocabulary[lo:hi] for p in self.by_lower[form]}
        else:
            lemma = language().lemma(text)
            result = set(self.by_lower.get(text, ())) | set(self.by_lemma.get(lemma, ()))
            if fuzzy and len(text) > fuzzy + 2:
                result |= self._fuzzy(text, fuzzy)
        frozen = frozenset(result)
        self.cache[key] = frozen
        return frozen

    def _fuzzy(self, text: str, k: int) -> set[int]:
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        close = process.extract(
            text, self.vocabulary, scorer=Levenshtein.distance, score_cutoff=k, limit=None
        )
        return {p for form, _, _ in close for p in self.by_lower[form]}

    def words_text(self, first: int, last: int) -> str:
        """The Whisper words behind tokens first..last (one utterance), as spoken."""
        a, b = self.tokens[first], self.tokens[last]
        words = self.utterances[a.utterance].words[a.word : b.word + 1]
        return " ".join(w.word for w in words)
