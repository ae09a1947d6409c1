"""A review as people read it: the scorecard with both answers per item, and the audit trail in
sentences.

The stored forms are for machines (item keys, answer dicts, audit entries with a before and an
after); the call page, for the reviewer, the agent and the lead alike, shows these instead:
per item the machine's answer and the reviewer's (marked when overridden), the override's
reason and the evidence to play; and "rita overrode 1.0 Identification: machine fail -> pass".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from speechqa.reviews.workflow import AuditEntry, ReviewView, readable
from speechqa.rules.scorecard import Scorecard, WeakSpot, item_key


@dataclass(frozen=True)
class Evidence:
    start: float
    text: str


@dataclass(frozen=True)
class ItemLine:
    key: str
    name: str
    """As people read it (``Greeting``, not ``rule greeting``)."""
    possible: float
    earned: float
    critical: bool
    machine: str
    """The machine's answer: pass, fail or N/A."""
    final: str
    """The answer that counts: the reviewer's where they overrode it."""
    overridden: bool
    machine_reason: str
    override_reason: str | None
    reviewer: str | None
    """Who overrode it."""
    evidence: list[Evidence] = field(default_factory=list)
    confidence: float | None = None
    """Mean ASR confidence of the words the machine's answer rests on."""
    low_confidence: bool = False
    """The machine's answer rests on words the ASR was unsure of: listen before trusting it."""
    weak_spots: list[WeakSpot] = field(default_factory=list)


@dataclass(frozen=True)
class SectionLines:
    name: str
    earned: float
    possible: float
    items: list[ItemLine]


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    by: str
    text: str
    """What they did, after their name: "overrode 1.0 Identification: machine fail -> pass"."""


class Judged(Protocol):
    """An answer to an item: the machine's, or a reviewer's."""

    @property
    def applicable(self) -> bool: ...
    @property
    def passed(self) -> bool: ...


def verdict(answer: Judged | Mapping[str, Any] | None) -> str:
    """pass, fail or N/A: of an answer, or of one as an audit entry stored it."""
    if not answer:
        return "-"
    if isinstance(answer, Mapping):
        applicable, passed = answer.get("applicable", True), bool(answer.get("passed"))
    else:
        applicable, passed = answer.applicable, answer.passed
    if not applicable:
        return "N/A"
    return "pass" if passed else "fail"


def scorecard(automatic: Scorecard, review: ReviewView | None) -> list[SectionLines]:
    """The automatic scorecard (with its evidence), with the answers of ``review`` (the one
    that counts, if any) over it."""
    answers = {i.key: i.answer for i in review.items if i.answer} if review else {}
    out = []
    for s, section in enumerate(automatic.sections):
        lines = []
        for i, item in enumerate(section.items):
            key = item_key(s, i)
            override = answers.get(key)
            final = verdict(override or item)
            lines.append(
                ItemLine(
                    key=key,
                    name=readable(item.item),
                    possible=item.possible,
                    earned=item.possible if final == "pass" else 0.0,
                    critical=item.critical,
                    machine=verdict(item),
                    final=final,
                    overridden=override is not None,
                    machine_reason=item.reason or "",
                    override_reason=override.reason if override else None,
                    reviewer=review.reviewer if override and review else None,
                    evidence=[Evidence(h.start, h.text or "") for h in item.evidence],
                    confidence=item.confidence,
                    low_confidence=item.low_confidence,
                    weak_spots=list(item.weak_spots),
                )
            )
        earned = sum(line.earned for line in lines)
        possible = sum(line.possible for line in lines if line.final != "N/A")
        out.append(SectionLines(section.name, earned, possible, lines))
    return out


def audit(review: ReviewView) -> list[AuditLine]:
    """The review's audit trail in sentences, oldest first."""
    names = {i.key: f"{i.key} {readable(i.item)}" for i in review.items}
    machine = {i.key: verdict(i.automatic) for i in review.items}
    return [AuditLine(e.at, e.by, _sentence(e, names, machine)) for e in review.audit]


def _quoted(text: Any) -> str:
    return f" — “{text}”" if text else ""


def _sentence(entry: AuditEntry, names: dict[str, str], machine: dict[str, str]) -> str:
    before, after = entry.before or {}, entry.after or {}
    action = entry.action
    if action == "created":
        if after.get("revises"):
            why = _quoted(after.get("reason"))
            return f"started a re-evaluation of review {after['revises']}{why}"
        return "started the review"
    if action == "re-evaluation":
        return f"made the draft a re-evaluation of review {after.get('revises')}" + _quoted(
            after.get("reason")
        )
    if action.startswith("answer "):
        key = action.removeprefix("answer ")
        name = names.get(key, key)
        if not entry.after:
            return f"went back to the machine's answer on {name} ({machine.get(key, '-')})"
        if entry.before:
            change = f"{verdict(before)} → {verdict(after)}"
            return f"changed {name}: {change}{_quoted(after.get('reason'))}"
        change = f"machine {machine.get(key, '-')} → {verdict(after)}"
        return f"overrode {name}: {change}{_quoted(after.get('reason'))}"
    if action == "comment":
        where = f" on utterance {after['utterance']}" if after.get("utterance") is not None else ""
        return f"commented{where}{_quoted(after.get('text'))}"
    if action == "submitted":
        score = after.get("score")
        return "submitted the review" + (f": final score {score:g}" if score is not None else "")
    if action == "superseded":
        return f"re-evaluated the call in review {after.get('review')}; this version no longer " + (
            "counts" + _quoted(after.get("reason"))
        )
    if action == "acknowledged":
        return "acknowledged the review"
    if action == "disputed":
        items = ", ".join(names.get(k, k) for k in after.get("items") or [])
        return f"disputed {items}{_quoted(after.get('comment'))}"
    if action.startswith("resolved"):
        outcome = after.get("outcome") or action.removeprefix("resolved ").strip("()")
        text = f"resolved the dispute: {'review upheld' if outcome == 'upheld' else 'adjusted'}"
        if outcome == "adjusted":
            was, now = before.get("answers") or {}, after.get("answers") or {}
            changed = [
                f"{names.get(k, k)} → "
                + (verdict(now[k]) if k in now else f"the machine's {machine.get(k, '-')}")
                for k in sorted(set(was) | set(now))
                if was.get(k) != now.get(k)
            ]
            if changed:
                text += " (" + "; ".join(changed) + ")"
            if before.get("score") != after.get("score") and after.get("score") is not None:
                old = before.get("score")
                text += f", score {old:g} → {after['score']:g}" if old is not None else ""
        return text + _quoted(after.get("reason"))
    return action
