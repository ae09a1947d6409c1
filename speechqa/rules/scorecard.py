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
from dataclasses import dataclass, field
from typing import Any

from speechqa.contracts import Utterance
from speechqa.pipeline.conversation import call_metrics
from speechqa.rules.index import TranscriptIndex
from speechqa.rules.matching import CompiledRule, Hit, RuleResult
from speechqa.rules.ruleset import ItemSpec, Ruleset

UNSURE_WORD = 0.5
"""A word the ASR gave a probability under this is unsure (tiny.en's slips sit at 0.1-0.4)."""
LOW_CONFIDENCE = 0.34
"""Share of unsure words from which a stretch of transcript is a weak spot (bench/rules_on_asr.py
measures how many of the ASR-caused wrong answers, and of the right ones, this marks)."""


@dataclass(frozen=True)
class WeakSpot:
    """A stretch of transcript an answer rests on whose words the ASR was unsure of."""

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
    section: str
    label: str
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
            "item": self.label,
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


@dataclass(frozen=True)
class Evaluation:
    """Everything a ruleset says about one call."""

    ruleset: str
    version: int | None
    rules: list[RuleResult]
    script: dict[str, Any] | None
    score: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rules": [r.as_dict() for r in self.rules],
            "script": self.script,
            "score": self.score,
        }


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


def _script(ruleset: Ruleset, results: Mapping[str, RuleResult]) -> dict[str, Any] | None:
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
        steps.append({"rule": step, "found": bool(hits), "in_order": counted, "start": start})
    return {"adherence": round(found / len(spec.steps), 4), "ordered": spec.ordered, "steps": steps}


def _scorecard(
    ruleset: Ruleset,
    results: Mapping[str, RuleResult],
    metrics: Mapping[str, float],
    index: TranscriptIndex,
) -> dict[str, Any] | None:
    card = ruleset.spec.scorecard
    if card is None:
        return None
    sections = [
        (
            section.name,
            [_item(section.name, item, results, metrics, ruleset, index) for item in section.items],
        )
        for section in card.sections
    ]
    return {"ruleset": ruleset.name, "version": ruleset.version, **total(sections)}


def total(sections: Sequence[tuple[str, Sequence[ItemResult]]]) -> dict[str, Any]:
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
        out_sections.append(
            {
                "name": name,
                "earned": earned,
                "possible": possible,
                "items": [i.as_dict() for i in items],
            }
        )
    value = round(100 * earned_total / possible_total, 1) if possible_total else None
    if critical_fail:
        value = 0.0
    return {
        "value": value,
        "critical_fail": critical_fail,
        "earned": earned_total,
        "possible": possible_total,
        "sections": out_sections,
    }


@dataclass(frozen=True)
class Answer:
    """A reviewer's answer to one scorecard item."""

    applicable: bool
    passed: bool
    reason: str


def with_answers(score: Mapping[str, Any], answers: Mapping[str, Answer]) -> dict[str, Any]:
    """A stored scorecard with some items answered by a person (keys: ``item_key``), re-added
    by :func:`total`. Unanswered items keep the automatic answer."""
    sections = []
    for s, section in enumerate(score["sections"]):
        items = []
        for i, item in enumerate(section["items"]):
            answer = answers.get(item_key(s, i))
            applicable = answer.applicable if answer else item["applicable"]
            passed = answer.passed if answer else item["passed"]
            items.append(
                ItemResult(
                    section["name"], item["item"], item["possible"],
                    item["possible"] if applicable and passed else 0.0,
                    applicable, passed, item["critical"],
                    answer.reason if answer else item["reason"],
                    confidence=item.get("confidence"),
                    low_confidence=item.get("low_confidence", False),
                    weak_spots=[WeakSpot.from_dict(w) for w in item.get("weak_spots") or []],
                )
            )  # fmt: skip
        sections.append((section["name"], items))
    return {"ruleset": score.get("ruleset"), "version": score.get("version"), **total(sections)}


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


def item_result(score: Mapping[str, Any] | None, key: str) -> dict[str, Any] | None:
    """The answer to item ``key`` in a scored scorecard (automatic or final), if it has one."""
    s, i = (int(p) for p in key.split("."))
    sections = (score or {}).get("sections") or []
    if s < len(sections) and i < len(sections[s]["items"]):
        found: dict[str, Any] = sections[s]["items"][i]
        return found
    return None


def _item(
    section: str,
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
            section,
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
