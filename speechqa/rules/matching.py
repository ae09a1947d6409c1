"""Rules stage: evaluate compiled match expressions on a transcript and record the evidence.

A rule is a match expression (``speechqa.rules.language``) scoped to a speaker and a time window.
Compiling parses it once and splits its phrases into the tokens transcripts are split into;
evaluating looks each term up in the transcript's index (``speechqa.rules.index``), so a
ruleset of a hundred rules costs a few milliseconds per call. Every hit records the utterance,
speaker, start and end time and the words that matched. Odd transcripts (empty, one word, no
agent) never raise: the rule simply does not match.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from pydantic import Field

from speechqa.rules import language as ml
from speechqa.rules.index import TranscriptIndex, tokenize


@dataclass(frozen=True)
class Window:
    """A time scope; each bound is seconds, or a fraction of the call when ``*_pct``."""

    first: float | None = None
    last: float | None = None
    start: float | None = None
    end: float | None = None
    pct: bool = False

    def bounds(self, duration: float) -> tuple[float, float]:
        scale = duration / 100 if self.pct else 1.0
        lo, hi = 0.0, float("inf")
        if self.first is not None:
            hi = self.first * scale
        if self.last is not None:
            lo = max(0.0, duration - self.last * scale)
        if self.start is not None:
            lo = self.start * scale
        if self.end is not None:
            hi = self.end * scale
        return lo, hi


@dataclass(frozen=True)
class Hit:
    utterance: int
    """Utterance id in the call document."""
    speaker: str
    start: float
    end: float
    text: str
    first: Annotated[int, Field(exclude=True)] = field(compare=False, repr=False)
    """Token positions in the transcript's index (-1 for a hit read back from storage); never
    stored or served."""
    last: Annotated[int, Field(exclude=True)] = field(compare=False, repr=False)

    def as_dict(self) -> dict[str, object]:
        return {
            "utterance": self.utterance,
            "speaker": self.speaker,
            "start": self.start,
            "end": self.end,
            "text": self.text,
        }


@dataclass(frozen=True)
class RuleResult:
    id: str
    matched: bool
    hits: list[Hit]

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "matched": self.matched, "hits": [h.as_dict() for h in self.hits]}


_CompiledTerm = tuple[str, str]  # (kind, text)

MOOD_THRESHOLD = 0.25
"""Mean turn score beyond which a speaker's turns together count as negative or positive."""

MISHEARD_MIN_TERMS = 4
"""A phrase needs this many words before one of them may be misheard (``misheard: 1``)."""
MISHEARD_BELOW = 0.5
"""A transcript word stands in for a phrase word only when the ASR gave it a probability below
this: tiny.en's slips on the sample calls ("and you for your patience") sit at 0.1-0.4."""


@dataclass(frozen=True)
class CompiledRule:
    id: str
    expression: ml.Node | None
    """None for a rule on sentiment alone."""
    speaker: str = "any"
    window: Window | None = None
    fuzzy: int = 0
    misheard: int = 0
    """Words of a long phrase that may have been heard as another, unsure word (0 or 1)."""
    phrase_tokens: dict[ml.Phrase, tuple[_CompiledTerm, ...]] = field(default_factory=dict)
    sentiment: str | None = None
    """Only utterances with this sentiment label count (negative, neutral or positive)."""

    @classmethod
    def compile(
        cls,
        rule_id: str,
        match: str | None,
        *,
        speaker: str = "any",
        window: Window | None = None,
        fuzzy: int = 0,
        misheard: int = 0,
        sentiment: str | None = None,
    ) -> CompiledRule:
        """Parse ``match`` (raises MatchSyntaxError) and prepare its phrases."""
        if match is None:
            if sentiment is None:
                raise ValueError("a rule needs 'match', 'sentiment' or both")
            return cls(rule_id, None, speaker, window, fuzzy, misheard, {}, sentiment)
        expression = ml.parse(match)
        tokens: dict[ml.Phrase, tuple[_CompiledTerm, ...]] = {}
        for phrase in ml.phrases(expression):
            terms: list[_CompiledTerm] = []
            for term in phrase.terms:
                if term.kind == "word":
                    terms.extend(("word", t) for t in tokenize(term.text) or [term.text])
                else:
                    terms.append((term.kind, term.text))
            tokens[phrase] = tuple(terms)
        return cls(rule_id, expression, speaker, window, fuzzy, misheard, tokens, sentiment)

    def scope(self, index: TranscriptIndex, lo: float = 0.0, hi: float = float("inf")) -> list[int]:
        """Positions of the tokens a hit of this rule may start on (its speaker and window),
        narrowed to ``lo``..``hi`` seconds: the words an absence was concluded from."""
        scope = _Scope(self, index)
        lo, hi = max(lo, scope.lo), min(hi, scope.hi)
        return [
            p
            for p, tok in enumerate(index.tokens)
            if scope.speaker_ok[tok.utterance] and lo <= tok.start <= hi
        ]

    def evaluate(self, index: TranscriptIndex) -> RuleResult:
        scope = _Scope(self, index)
        if self.expression is None:
            return scope.mood()
        matched, hits = scope.eval(self.expression)
        unique = sorted(set(hits), key=lambda h: (h.start, h.end))
        return RuleResult(self.id, matched, unique if matched else [])


class _Scope:
    def __init__(self, rule: CompiledRule, index: TranscriptIndex) -> None:
        self.rule = rule
        self.index = index
        lo, hi = rule.window.bounds(index.duration_s) if rule.window else (0.0, float("inf"))
        self.lo, self.hi = lo, hi
        self.speaker_ok = [
            rule.speaker in ("any", u.speaker)
            and (
                rule.sentiment is None
                or (u.sentiment is not None and u.sentiment.label == rule.sentiment)
            )
            for u in index.utterances
        ]

    def mood(self) -> RuleResult:
        """A rule on sentiment alone: the mean score of the scoped turns has that label.

        One ASR slip ("no, nothing more") must not make a satisfied customer "negative", so the
        rule judges the speaker's turns in the window together; the turns with the rule's label
        are the evidence.
        """
        rule = self.rule
        turns = [
            utt
            for utt in self.index.utterances
            if rule.speaker in ("any", utt.speaker)
            and utt.sentiment is not None
            and self.lo <= utt.start <= self.hi
        ]
        scores = [t.sentiment.score for t in turns if t.sentiment is not None]
        if not scores:
            return RuleResult(rule.id, False, [])
        mean = sum(scores) / len(scores)
        label = "neutral"
        if mean <= -MOOD_THRESHOLD:
            label = "negative"
        elif mean >= MOOD_THRESHOLD:
            label = "positive"
        if label != rule.sentiment:
            return RuleResult(rule.id, False, [])
        hits = [
            Hit(t.id, t.speaker, t.start, t.end, t.text, -1, -1)
            for t in turns
            if t.sentiment is not None and t.sentiment.label == rule.sentiment
        ]
        return RuleResult(rule.id, True, hits)

    def eval(self, node: ml.Node) -> tuple[bool, list[Hit]]:
        if isinstance(node, ml.Phrase):
            hits = self.phrase(node)
            return bool(hits), hits
        if isinstance(node, ml.Or):
            results = [self.eval(child) for child in node.operands]
            return any(m for m, _ in results), [h for m, hs in results if m for h in hs]
        if isinstance(node, ml.And):
            results = [self.eval(child) for child in node.operands]
            return all(m for m, _ in results), [h for _, hs in results for h in hs]
        if isinstance(node, ml.Not):
            matched, _ = self.eval(node.operand)
            return not matched, []
        if isinstance(node, ml.Near):
            return self.near(node)
        return self.before(node)

    def phrase(self, phrase: ml.Phrase) -> list[Hit]:
        terms = self.rule.phrase_tokens[phrase]
        index = self.index
        n = len(terms)
        candidates = [index.positions(kind, text, self.rule.fuzzy) for kind, text in terms]
        slips = self.rule.misheard if n >= MISHEARD_MIN_TERMS else 0
        starts = set(candidates[0])
        if slips:  # the first word may be the misheard one
            starts |= {p - 1 for p in candidates[1] if p > 0}
        hits = []
        for p in sorted(starts):
            tok = index.tokens[p]
            if not self.speaker_ok[tok.utterance] or not (self.lo <= tok.start <= self.hi):
                continue
            last = p + n - 1
            if last >= len(index.tokens) or index.tokens[last].utterance != tok.utterance:
                continue
            missed = [k for k in range(n) if p + k not in candidates[k]]
            if not missed or (
                len(missed) <= slips
                # the last word tells such phrases apart ("thank you for holding/calling")
                and all(
                    k < n - 1 and index.tokens[p + k].probability < MISHEARD_BELOW for k in missed
                )
            ):
                hits.append(self.hit(p, last))
        return hits

    def hit(self, first: int, last: int) -> Hit:
        a, b = self.index.tokens[first], self.index.tokens[last]
        utt = self.index.utterances[a.utterance]
        return Hit(
            utt.id, utt.speaker, a.start, b.end, self.index.words_text(first, last), first, last
        )

    def near(self, node: ml.Near) -> tuple[bool, list[Hit]]:
        _, left = self.eval(node.left)
        _, right = self.eval(node.right)
        hits = []
        for a in left:
            for b in right:
                if self.index.tokens[a.first].utterance != self.index.tokens[b.first].utterance:
                    continue
                gap = b.first - a.last - 1 if a.first <= b.first else a.first - b.last - 1
                if gap <= node.distance:
                    first, last = min(a.first, b.first), max(a.last, b.last)
                    hits.append(self.hit(first, last))
        return bool(hits), hits

    def before(self, node: ml.Before) -> tuple[bool, list[Hit]]:
        ma, left = self.eval(node.left)
        mb, right = self.eval(node.right)
        if not (ma and mb and left and right):
            return False, []
        a = min(left, key=lambda h: h.start)
        b = min(right, key=lambda h: h.start)
        return (True, [a, b]) if a.start < b.start else (False, [])
