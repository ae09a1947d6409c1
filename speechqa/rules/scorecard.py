"""Scoring stage: a call's rule results, script adherence and scorecard, with the reasons.

The score is earned points over the points of the applicable items, 0-100. An item is N/A
(not applicable, with the reason) when its ``when`` rule never matched, or when its metric was
not computed. A failed critical item sets the score to 0 and flags the call. Script adherence is
the share of steps found; with ``ordered`` a step counts only when found after the previous one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from speechqa.contracts import Utterance
from speechqa.pipeline.conversation import call_metrics
from speechqa.rules.index import TranscriptIndex
from speechqa.rules.matching import Hit, RuleResult
from speechqa.rules.ruleset import ItemSpec, Ruleset


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
        score=_scorecard(ruleset, results, metrics),
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
    ruleset: Ruleset, results: Mapping[str, RuleResult], metrics: Mapping[str, float]
) -> dict[str, Any] | None:
    card = ruleset.spec.scorecard
    if card is None:
        return None
    sections = [
        (section.name, [_item(section.name, item, results, metrics) for item in section.items])
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
    section: str, item: ItemSpec, results: Mapping[str, RuleResult], metrics: Mapping[str, float]
) -> ItemResult:
    label = item.description or (f"rule {item.rule}" if item.rule else f"kpi {item.kpi}")

    def result(
        applicable: bool, passed: bool, reason: str, evidence: list[Hit] | None = None
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
    if item.when is not None:
        trigger = results[item.when]
        if not trigger.matched or not trigger.hits:
            return result(False, False, f"N/A: '{item.when}' did not occur")
        t0 = min(h.start for h in trigger.hits)
        if item.within is not None:
            hits = [h for h in hits if t0 <= h.start <= t0 + item.within]
            scope = f" within {item.within:g} s of '{item.when}' at {t0:.1f} s"
        else:
            hits = [h for h in hits if h.start >= t0]
            scope = f" after '{item.when}' at {t0:.1f} s"
    else:
        scope = ""
        if not results[item.rule].matched:
            hits = []
    if item.expect == "absent":
        passed = not hits
        reason = f"'{item.rule}' absent{scope}" if passed else f"'{item.rule}' found{scope}"
        return result(True, passed, reason, hits)
    passed = bool(hits)
    return result(True, passed, f"'{item.rule}' {'found' if passed else 'not found'}{scope}", hits)
