"""Scoring stage: a call's rule results, script adherence and scorecard, with the reasons.

The score is earned points over the points of the applicable items, 0-100. An item is N/A
(not applicable, with the reason) when its ``when`` rule never matched, or when its metric was
not computed. A failed critical item sets the score to 0 and flags the call. Script adherence is
the share of steps found; with ``ordered`` a step counts only when found after the previous one.

A rule item also says how sure the ASR was of the words its answer rests on: the evidence's
words, or, for an answer drawn from absence ("not found"), every word of the rule's scope. A
stretch (a hit, or an utterance in scope) with a third or more of its words unsure is a weak spot,
and an item with one is ``low_confidence``: a reviewer should listen there before trusting the
answer (tiny.en heard "I have issued a refund" as "Yes, I can wish you no reason", three of
its seven words under 0.5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from speechqa.contracts import Utterance
from speechqa.pipeline.conversation import call_metrics
from speechqa.rules.index import TranscriptIndex
from speechqa.rules.matching import CompiledRule, Hit, RuleResult
from speechqa.rules.ruleset import ItemSpec, Ruleset
from speechqa.stored import SERVED, ReadsAsStored

UNSURE_WORD = 0.5
"""A word the ASR gave a probability under this is unsure (tiny.en's slips sit at 0.1-0.4)."""
LOW_CONFIDENCE = 0.34
"""Share of unsure words from which a stretch of transcript is a weak spot (bench/rules_on_asr.py
measures how many of the ASR-caused wrong answers, and of the right ones, this marks)."""


@dataclass(frozen=True)
class WeakSpot:
    """A stretch of transcript an answer rests on whose words the ASR was unsure of."""

    __pydantic_config__ = SERVED

    utterance: int
    """Utterance id in the call document."""
    start: float
    end: float
    text: str
    confidence: float
    """Mean probability of its words."""

    def as_dict(self) -> dict[str, object]:
        return {
            "utterance": self.utterance,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "confidence": self.confidence,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> WeakSpot:
        return cls(d["utterance"], d["start"], d["end"], d["text"], d["confidence"])


@dataclass(frozen=True)
class Confidence:
    """How sure the ASR was of the words an item's answer rests on."""

    mean: float | None
    """Mean word probability of those words; None when the answer rests on no words."""
    weak_spots: list[WeakSpot] = field(default_factory=list)

    @property
    def low(self) -> bool:
        return bool(self.weak_spots)


@dataclass(frozen=True)
class ItemResult:
    """The answer to one scorecard item (stored and served under these names)."""

    __pydantic_config__ = SERVED

    item: str
    """The item as its section lists it: its description, or ``rule <id>`` / ``kpi <name>``."""
    possible: float
    earned: float
    applicable: bool
    passed: bool
    critical: bool
    reason: str
    evidence: list[Hit] = field(default_factory=list)
    confidence: float | None = None
    """Mean ASR probability of the words the answer rests on (None for metric items)."""
    low_confidence: bool = False
    """True when some of those words were heard with low confidence (see ``weak_spots``)."""
    weak_spots: list[WeakSpot] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "possible": self.possible,
            "earned": self.earned,
            "applicable": self.applicable,
            "passed": self.passed,
            "critical": self.critical,
            "reason": self.reason,
            "evidence": [h.as_dict() for h in self.evidence],
            "confidence": self.confidence,
            "low_confidence": self.low_confidence,
            "weak_spots": [w.as_dict() for w in self.weak_spots],
        }

    @classmethod
    def from_stored(cls, d: Mapping[str, Any]) -> ItemResult:
        """An item as stored (items stored before confidence was measured have none)."""
        return cls(
            d["item"],
            d["possible"],
            d["earned"],
            d["applicable"],
            d["passed"],
            d["critical"],
            d["reason"],
            [stored_hit(h) for h in d.get("evidence") or []],
            d.get("confidence"),
            bool(d.get("low_confidence", False)),
            [WeakSpot.from_dict(w) for w in d.get("weak_spots") or []],
        )


@dataclass(frozen=True)
class SectionResult:
    """A section of a scored scorecard."""

    __pydantic_config__ = SERVED

    name: str
    earned: float
    possible: float
    """Points of its applicable items."""
    items: list[ItemResult]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "earned": self.earned,
            "possible": self.possible,
            "items": [i.as_dict() for i in self.items],
        }

    @classmethod
    def from_stored(cls, d: Mapping[str, Any]) -> SectionResult:
        items = [ItemResult.from_stored(i) for i in d["items"]]
        return cls(d["name"], d["earned"], d["possible"], items)


@dataclass(frozen=True, eq=False)
class Scorecard(ReadsAsStored):
    """A scored scorecard: the automatic one, or a reviewer's final one (same form)."""

    __pydantic_config__ = SERVED

    ruleset: str | None
    version: int | None
    value: float | None
    """0-100; None when no item applied; 0 on a critical fail."""
    critical_fail: bool
    earned: float
    possible: float
    sections: list[SectionResult]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ruleset": self.ruleset,
            "version": self.version,
            "value": self.value,
            "critical_fail": self.critical_fail,
            "earned": self.earned,
            "possible": self.possible,
            "sections": [s.as_dict() for s in self.sections],
        }

    @classmethod
    def from_stored(cls, d: Mapping[str, Any]) -> Scorecard:
        """A scorecard as stored in an evaluation's or a review's result."""
        return cls(
            d.get("ruleset"),
            d.get("version"),
            d.get("value"),
            bool(d["critical_fail"]),
            d["earned"],
            d["possible"],
            [SectionResult.from_stored(s) for s in d["sections"]],
        )

    def keyed(self) -> list[tuple[str, SectionResult, ItemResult]]:
        """Every item with its key (:func:`item_key`) and section, in order."""
        return [
            (item_key(s, i), section, item)
            for s, section in enumerate(self.sections)
            for i, item in enumerate(section.items)
        ]

    def item(self, key: str) -> ItemResult | None:
        """The answer to item ``key``, if the scorecard has it."""
        s, i = (int(p) for p in key.split("."))
        if s < len(self.sections) and i < len(self.sections[s].items):
            return self.sections[s].items[i]
        return None


@dataclass(frozen=True)
class ScriptStep:
    """A step of a script, and whether it was said."""

    __pydantic_config__ = SERVED

    rule: str
    found: bool
    """The step's rule matched somewhere."""
    in_order: bool
    """It counted: found, and (for an ordered script) after the step before it."""
    start: float | None


@dataclass(frozen=True, eq=False)
class Script(ReadsAsStored):
    """Script adherence: the share of steps found (in order, for an ordered script)."""

    __pydantic_config__ = SERVED

    adherence: float
    ordered: bool
    steps: list[ScriptStep]

    def as_dict(self) -> dict[str, Any]:
        steps = [
            {"rule": s.rule, "found": s.found, "in_order": s.in_order, "start": s.start}
            for s in self.steps
        ]
        return {"adherence": self.adherence, "ordered": self.ordered, "steps": steps}

    @classmethod
    def from_stored(cls, d: Mapping[str, Any]) -> Script:
        steps = [ScriptStep(s["rule"], s["found"], s["in_order"], s["start"]) for s in d["steps"]]
        return cls(d["adherence"], d["ordered"], steps)


@dataclass(frozen=True)
class Evaluation:
    """Everything a ruleset says about one call."""

    ruleset: str
    version: int | None
    rules: list[RuleResult]
    script: Script | None
    score: Scorecard | None

    def as_dict(self) -> dict[str, Any]:
        """The stored form (an evaluation row's ``result``)."""
        return {
            "rules": [r.as_dict() for r in self.rules],
            "script": self.script.as_dict() if self.script else None,
            "score": self.score.as_dict() if self.score else None,
        }

    @classmethod
    def from_stored(
        cls, result: Mapping[str, Any], ruleset: str, version: int | None
    ) -> Evaluation:
        """An evaluation as stored, with the ruleset version of its row."""
        rules = [
            RuleResult(r["id"], r["matched"], [stored_hit(h) for h in r["hits"]])
            for r in result.get("rules") or []
        ]
        script, score = result.get("script"), result.get("score")
        return cls(
            ruleset,
            version,
            rules,
            Script.from_stored(script) if script else None,
            Scorecard.from_stored(score) if score else None,
        )


def stored_hit(d: Mapping[str, Any]) -> Hit:
    """A hit as stored (its token positions are not kept)."""
    return Hit(d["utterance"], d["speaker"], d["start"], d["end"], d["text"], -1, -1)


def evaluate(
    ruleset: Ruleset,
    utterances: Sequence[Utterance] | TranscriptIndex,
    *,
    duration_s: float | None = None,
    metrics: Mapping[str, float] | None = None,
) -> Evaluation:
    """Evaluate every rule, the script and the scorecard of ``ruleset`` on a transcript."""
    index = (
        utterances
        if isinstance(utterances, TranscriptIndex)
        else TranscriptIndex.build(utterances, duration_s)
    )
    if metrics is None:
        metrics = call_metrics(index.utterances, index.duration_s)
    results = {rule_id: rule.evaluate(index) for rule_id, rule in ruleset.rules.items()}
    return Evaluation(
        ruleset=ruleset.name,
        version=ruleset.version,
        rules=list(results.values()),
        script=_script(ruleset, results),
        score=_scorecard(ruleset, results, metrics, index),
    )


def _script(ruleset: Ruleset, results: Mapping[str, RuleResult]) -> Script | None:
    spec = ruleset.spec.script
    if spec is None:
        return None
    steps = []
    found = 0
    last_start = -1.0
    for step in spec.steps:
        hits = results[step].hits
        start = None
        if hits:
            candidates = [h for h in hits if h.start >= last_start] if spec.ordered else hits
            if candidates:
                start = min(h.start for h in candidates)
        counted = start is not None
        if counted:
            found += 1
            last_start = start if start is not None else last_start
        steps.append(ScriptStep(step, bool(hits), counted, start))
    return Script(round(found / len(spec.steps), 4), spec.ordered, steps)


def _scorecard(
    ruleset: Ruleset,
    results: Mapping[str, RuleResult],
    metrics: Mapping[str, float],
    index: TranscriptIndex,
) -> Scorecard | None:
    card = ruleset.spec.scorecard
    if card is None:
        return None
    sections = [
        (section.name, [_item(item, results, metrics, ruleset, index) for item in section.items])
        for section in card.sections
    ]
    return total(ruleset.name, ruleset.version, sections)


def total(
    ruleset: str | None, version: int | None, sections: Sequence[tuple[str, Sequence[ItemResult]]]
) -> Scorecard:
    """The score of answered items: earned over possible points of the applicable items,
    0-100; 0 with ``critical_fail`` when an applicable critical item failed. The one place a
    score is added up, for the automatic evaluation and for a reviewer's answers alike."""
    out_sections = []
    earned_total = possible_total = 0.0
    critical_fail = False
    for name, items in sections:
        earned = sum(i.earned for i in items if i.applicable)
        possible = sum(i.possible for i in items if i.applicable)
        earned_total += earned
        possible_total += possible
        critical_fail |= any(i.critical and i.applicable and not i.passed for i in items)
        out_sections.append(SectionResult(name, earned, possible, list(items)))
    value = round(100 * earned_total / possible_total, 1) if possible_total else None
    if critical_fail:
        value = 0.0
    return Scorecard(
        ruleset, version, value, critical_fail, earned_total, possible_total, out_sections
    )


@dataclass(frozen=True)
class Answer:
    """A reviewer's answer to one scorecard item."""

    applicable: bool
    passed: bool
    reason: str


def with_answers(score: Scorecard, answers: Mapping[str, Answer]) -> Scorecard:
    """A scorecard with some items answered by a person (keys: ``item_key``), re-added by
    :func:`total`. Unanswered items keep the automatic answer."""
    sections = []
    for s, section in enumerate(score.sections):
        items = []
        for i, item in enumerate(section.items):
            answer = answers.get(item_key(s, i))
            if answer is None:
                items.append(replace(item, evidence=[]))
                continue
            earned = item.possible if answer.applicable and answer.passed else 0.0
            items.append(
                replace(
                    item,
                    earned=earned,
                    applicable=answer.applicable,
                    passed=answer.passed,
                    reason=answer.reason,
                    evidence=[],
                )
            )
        sections.append((section.name, items))
    return total(score.ruleset, score.version, sections)


def item_key(section: int, item: int) -> str:
    """How an item of a scorecard is named: its section's and its own position, ``"0.2"``."""
    return f"{section}.{item}"


def item_specs(ruleset: Ruleset) -> list[tuple[str, ItemSpec]]:
    """A ruleset's scorecard items with their keys, in order."""
    sections = ruleset.spec.scorecard.sections if ruleset.spec.scorecard else []
    return [
        (item_key(s, i), item)
        for s, section in enumerate(sections)
        for i, item in enumerate(section.items)
    ]


def item_result(score: Scorecard | None, key: str) -> ItemResult | None:
    """The answer to item ``key`` in a scored scorecard (automatic or final), if it has one."""
    return score.item(key) if score else None


def _item(
    item: ItemSpec,
    results: Mapping[str, RuleResult],
    metrics: Mapping[str, float],
    ruleset: Ruleset,
    index: TranscriptIndex,
) -> ItemResult:
    label = item.description or (f"rule {item.rule}" if item.rule else f"kpi {item.kpi}")

    def result(
        applicable: bool,
        passed: bool,
        reason: str,
        evidence: list[Hit] | None = None,
        sure: Confidence | None = None,
    ) -> ItemResult:
        earned = item.points if applicable and passed else 0.0
        return ItemResult(
            label,
            item.points,
            earned,
            applicable,
            passed,
            item.critical,
            reason,
            evidence or [],
            sure.mean if sure else None,
            sure.low if sure else False,
            sure.weak_spots if sure else [],
        )

    if item.kpi is not None:
        value = metrics.get(item.kpi)
        if value is None:
            return result(False, False, f"N/A: metric '{item.kpi}' was not computed for this call")
        ok = (item.max is None or value <= item.max) and (item.min is None or value >= item.min)
        bound = f"<= {item.max}" if item.max is not None else f">= {item.min}"
        return result(True, ok, f"{item.kpi} = {value:g} ({'meets' if ok else 'misses'} {bound})")

    assert item.rule is not None
    hits = results[item.rule].hits
    lo, hi = 0.0, float("inf")
    if item.when is not None:
        trigger = results[item.when]
        if not trigger.matched or not trigger.hits:
            return result(False, False, f"N/A: '{item.when}' did not occur")
        t0 = min(h.start for h in trigger.hits)
        lo = t0
        if item.within is not None:
            hi = t0 + item.within
            hits = [h for h in hits if t0 <= h.start <= t0 + item.within]
            scope = f" within {item.within:g} s of '{item.when}' at {t0:.1f} s"
        else:
            hits = [h for h in hits if h.start >= t0]
            scope = f" after '{item.when}' at {t0:.1f} s"
    else:
        scope = ""
        if not results[item.rule].matched:
            hits = []
    sure = confidence(ruleset.rules[item.rule], index, hits, lo, hi)
    if item.expect == "absent":
        passed = not hits
        reason = f"'{item.rule}' absent{scope}" if passed else f"'{item.rule}' found{scope}"
        return result(True, passed, reason, hits, sure)
    passed = bool(hits)
    reason = f"'{item.rule}' {'found' if passed else 'not found'}{scope}"
    return result(True, passed, reason, hits, sure)


def confidence(
    rule: CompiledRule, index: TranscriptIndex, hits: Sequence[Hit], lo: float, hi: float
) -> Confidence | None:
    """How sure the ASR was of what an answer rests on: the words of ``hits`` when there are
    any, else every word in the rule's scope (``lo``..``hi`` narrows it, for ``when``)."""
    if rule.expression is None:
        return None  # a rule on sentiment alone rests on the model's reading, not on words
    stretches: dict[tuple[int, int], set[int]] = {}  # (utterance, first token) -> word indexes
    if hits:
        for h in hits:
            if h.first >= 0:
                words = {t.word for t in index.tokens[h.first : h.last + 1]}
                stretches[(index.tokens[h.first].utterance, h.first)] = words
    else:
        for p in rule.scope(index, lo, hi):
            tok = index.tokens[p]
            stretches.setdefault((tok.utterance, -1), set()).add(tok.word)
    probabilities = []
    weak = []
    for (u, _), words in sorted(stretches.items()):
        utt = index.utterances[u]
        chosen = [utt.words[w] for w in sorted(words)]
        probs = [w.probability for w in chosen]
        probabilities += probs
        mean = sum(probs) / len(probs)
        if sum(p < UNSURE_WORD for p in probs) >= LOW_CONFIDENCE * len(probs):
            text = " ".join(w.word for w in chosen)
            weak.append(WeakSpot(utt.id, chosen[0].start, chosen[-1].end, text, round(mean, 2)))
    if not probabilities:
        return Confidence(None)
    return Confidence(round(sum(probabilities) / len(probabilities), 2), weak)
