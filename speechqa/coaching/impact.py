"""Did the coaching work? An agent's focus KPIs before and after a session, beside the team's.

For each focus (a KPI, a rule's hit rate, or a scorecard item's pass rate) the agent's calls in
a window before the session are compared with those in a window after it (30 days each by
default): the value on each side with its call count, the change, and a 95% bootstrap interval
of the change (the calls of each side resampled with replacement; fixed seed, so the same data
gives the same interval). With fewer than ``min_calls`` calls on a side there is no estimate,
only "not enough calls". The rest of the team (the agent left out) is measured over the same
windows, so a season that moved everyone is not credited to the coaching: ``net`` is the
agent's change less the team's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from speechqa.errors import InvalidInput
from speechqa.kpis import labels
from speechqa.rules import versions
from speechqa.rules.scorecard import item_result, item_specs
from speechqa.scoring import evaluations
from speechqa.storage.tables import CallStats

RESAMPLES = 2000
SEED = 20261127
Better = Literal["higher", "lower"]
_LOWER_IS_BETTER = ("silence", "overtalk", "interruption", "critical_fail")
_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")


@dataclass(frozen=True)
class Focus:
    """What a session worked on: a KPI (``qa_score``, ``silence_ratio``, ``critical_fail``...),
    a rule (its hit rate) or a scorecard item (its pass rate, ``ruleset`` + key ``"2.0"``)."""

    kind: Literal["kpi", "rule", "item"]
    name: str
    ruleset: str | None = None

    @classmethod
    def parse(cls, session: Session, raw: dict[str, Any]) -> Focus:
        kinds = [k for k in ("kpi", "rule", "item") if raw.get(k) is not None]
        if len(kinds) != 1 or set(raw) - {"kpi", "rule", "item", "ruleset"}:
            raise InvalidInput(
                "A focus is one of {'kpi': ...}, {'rule': ...} or {'item': '2.0', 'ruleset': ...}.",
                details={"focus": raw},
            )
        kind = kinds[0]
        name = str(raw[kind])
        if not _NAME.match(name):
            raise InvalidInput(f"Focus {kind} {name!r} is not a valid name.")
        if kind == "kpi":
            return cls("kpi", name)
        ruleset_name = str(raw.get("ruleset") or versions.DEFAULT)
        if not versions.exists(session, ruleset_name):
            raise InvalidInput(f"No ruleset {ruleset_name!r}.", details={"focus": raw})
        ruleset = versions.get(session, ruleset_name)
        if kind == "rule" and name not in ruleset.rules:
            raise InvalidInput(
                f"No rule {name!r} in ruleset {ruleset_name!r}.", details={"focus": raw}
            )
        if kind == "item" and name not in dict(item_specs(ruleset)):
            raise InvalidInput(
                f"No item {name!r} on ruleset {ruleset_name!r}'s scorecard.", details={"focus": raw}
            )
        ruleset_kept = ruleset_name if kind == "item" or raw.get("ruleset") else None
        return (
            cls("rule", name, ruleset_kept) if kind == "rule" else cls("item", name, ruleset_kept)
        )

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {self.kind: self.name}
        if self.ruleset is not None:
            out["ruleset"] = self.ruleset
        return out

    @property
    def label(self) -> str:
        if self.kind == "kpi":
            return labels.label(self.name)
        if self.kind == "rule":
            return f"'{self.name}' hit rate"
        return f"item {self.name} of {self.ruleset} pass rate"


@dataclass(frozen=True)
class Side:
    start: datetime
    end: datetime
    calls: int
    value: float | None


@dataclass(frozen=True)
class Change:
    before: Side
    after: Side
    change: float | None
    """After minus before; None with too few calls."""
    interval: tuple[float, float] | None
    """95% bootstrap interval of the change."""
    verdict: str
    """rose, fell, no clear change, or not enough calls."""


@dataclass(frozen=True)
class FocusImpact:
    focus: dict[str, Any]
    label: str
    better: Better
    agent: Change
    team: Change | None
    """The rest of the agent's team over the same windows (None without a team)."""
    net: float | None
    """The agent's change less the team's."""
    statement: str


def measure(
    session: Session,
    *,
    agent_id: str,
    team: str | None,
    held_at: datetime,
    focus: Sequence[Focus],
    before_days: int,
    after_days: int,
    min_calls: int,
    now: datetime | None = None,
) -> list[FocusImpact]:
    """The impact of a session held at ``held_at`` on each focus."""
    now = now or datetime.now(UTC)
    held_at = held_at if held_at.tzinfo else held_at.replace(tzinfo=UTC)
    before = (held_at - timedelta(days=before_days), held_at)
    after = (held_at, min(now, held_at + timedelta(days=after_days)))
    mine = _rows(session, before, after, agent_id=agent_id)
    others = _rows(session, before, after, team=team, not_agent=agent_id) if team else None
    out = []
    for item in focus:
        values = _values(session, item)
        better = _direction(session, item)
        agent = _change(mine, values, before, after, min_calls)
        rest = _change(others, values, before, after, min_calls) if others is not None else None
        net = None
        if rest is not None and agent.change is not None and rest.change is not None:
            net = round(agent.change - rest.change, 4)
        out.append(
            FocusImpact(
                item.as_dict(),
                item.label,
                better,
                agent,
                rest,
                net,
                _statement(item, better, agent, rest, net, min_calls),
            )
        )
    return out


Rows = tuple[list[CallStats], list[CallStats]]
Window = tuple[datetime, datetime]


def _rows(
    session: Session,
    before: Window,
    after: Window,
    *,
    agent_id: str | None = None,
    team: str | None = None,
    not_agent: str | None = None,
) -> Rows:
    query = select(CallStats).where(CallStats.at >= before[0], CallStats.at < after[1])
    if agent_id is not None:
        query = query.where(CallStats.agent_id == agent_id)
    if team is not None:
        query = query.where(CallStats.team == team, CallStats.agent_id != not_agent)
    rows = list(session.scalars(query))
    cut = before[1]
    return [r for r in rows if r.at < cut], [r for r in rows if r.at >= cut]


Values = Callable[[Sequence[CallStats]], list[float]]


def _values(session: Session, focus: Focus) -> Values:
    """How each call counts for ``focus`` (calls where it does not apply are left out)."""
    if focus.kind == "kpi":
        if focus.name == "critical_fail":
            return lambda rows: [float(r.critical_fail) for r in rows]
        return lambda rows: [float(r.values[focus.name]) for r in rows if focus.name in r.values]
    if focus.kind == "rule":
        return lambda rows: [float(focus.name in r.rules_hit) for r in rows]

    def item_values(rows: Sequence[CallStats]) -> list[float]:
        counted = evaluations.counted(session, [r.call_id for r in rows])
        mine = [c for c in counted.values() if c.ruleset == focus.ruleset]
        automatic = evaluations.loaded(session, [c.id for c in mine])
        reviewed = evaluations.review_results(session, [c.review_id for c in mine])
        out = []
        for chosen in mine:
            final = reviewed.get(chosen.review_id) if chosen.review_id else None
            score = final if final is not None else automatic[chosen.id].score
            answer = item_result(score, focus.name)
            if answer is not None and answer.applicable:
                out.append(float(answer.passed))
        return out

    return item_values


def _direction(session: Session, focus: Focus) -> Better:
    if focus.kind == "kpi":
        lower = any(word in focus.name for word in _LOWER_IS_BETTER)
        return "lower" if lower else "higher"
    if focus.kind == "rule":
        ruleset = versions.get(session, focus.ruleset or versions.DEFAULT)
        forbidden = any(
            item.rule == focus.name and item.expect == "absent" for _, item in item_specs(ruleset)
        )
        return "lower" if forbidden else "higher"
    return "higher"


def _change(rows: Rows, values: Values, before: Window, after: Window, min_calls: int) -> Change:
    b, a = values(rows[0]), values(rows[1])
    sides = (
        Side(before[0], before[1], len(b), _mean(b)),
        Side(after[0], after[1], len(a), _mean(a)),
    )
    if len(b) < min_calls or len(a) < min_calls:
        return Change(*sides, None, None, "not enough calls")
    change = round(float(np.mean(a) - np.mean(b)), 4)
    lo, hi = _bootstrap(np.asarray(b), np.asarray(a))
    verdict = "rose" if lo > 0 else "fell" if hi < 0 else "no clear change"
    return Change(*sides, change, (lo, hi), verdict)


def _mean(values: Sequence[float]) -> float | None:
    return round(float(np.mean(values)), 4) if values else None


def _bootstrap(before: np.ndarray, after: np.ndarray) -> tuple[float, float]:
    """95% percentile interval of mean(after) - mean(before), resampling each side."""
    rng = np.random.default_rng(SEED)
    diffs = np.empty(RESAMPLES)
    chunk = max(1, 2_000_000 // max(len(before), len(after)))  # bounded memory for big teams
    for lo in range(0, RESAMPLES, chunk):
        n = min(chunk, RESAMPLES - lo)
        b = rng.choice(before, size=(n, len(before))).mean(axis=1)
        a = rng.choice(after, size=(n, len(after))).mean(axis=1)
        diffs[lo : lo + n] = a - b
    low, high = np.percentile(diffs, [2.5, 97.5])
    return round(float(low), 4), round(float(high), 4)


def _statement(
    focus: Focus,
    better: Better,
    agent: Change,
    team: Change | None,
    net: float | None,
    min_calls: int,
) -> str:
    b, a = agent.before, agent.after
    if agent.change is None or agent.interval is None:
        return (
            f"{focus.label}: not enough calls to tell ({b.calls} before, {a.calls} after; "
            f"at least {min_calls} each are needed)."
        )
    lo, hi = agent.interval
    moved = {"rose": "rose", "fell": "fell", "no clear change": "moved"}[agent.verdict]
    text = (
        f"{focus.label} {moved} from {b.value:g} to {a.value:g} ({agent.change:+g}; 95% "
        f"interval {lo:+g} to {hi:+g}) over {b.calls} and {a.calls} calls"
    )
    if agent.verdict == "no clear change":
        text += ", within what chance alone would give"
    elif (agent.verdict == "rose") == (better == "higher"):
        text += ", an improvement"
    else:
        text += ", a change for the worse"
    if team is not None and team.change is not None and net is not None:
        text += (
            f"; the rest of the team moved {team.change:+g} over the same windows, so "
            f"{net:+g} is the agent's own"
        )
    elif team is not None:
        text += "; the rest of the team had too few calls to compare"
    return text + "."
