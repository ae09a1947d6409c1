"""KPIs per agent and team over a period, and the leaderboard.

Aggregates read only the narrow ``call_stats`` rows (:mod:`speechqa.kpis.records`), so an
agent's quarter is one index range scan however many calls the database holds; means and
medians are computed from the rows themselves, and every figure links to the calls behind it
(the call list with the same filters).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from speechqa.errors import NotFound
from speechqa.kpis.period import bucket_start
from speechqa.storage.tables import Agent, CallStats


def _summary(rows: Sequence[CallStats]) -> dict[str, Any]:
    values: dict[str, list[float]] = defaultdict(list)
    rules: Counter[str] = Counter()
    for row in rows:
        for name, value in row.values.items():
            values[name].append(float(value))
        rules.update(set(row.rules_hit))
    n = len(rows)
    return {
        "calls": n,
        "metrics": {
            name: {
                "mean": round(statistics.fmean(v), 4),
                "median": round(statistics.median(v), 4),
                "calls": len(v),
            }
            for name, v in sorted(values.items())
        },
        "critical_fail_rate": round(sum(r.critical_fail for r in rows) / n, 4) if n else 0.0,
        "rule_hit_rate": {rule: round(count / n, 4) for rule, count in sorted(rules.items())},
    }


def aggregate(rows: Sequence[CallStats], bucket: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {"totals": _summary(rows)}
    if bucket:
        groups: dict[str, list[CallStats]] = defaultdict(list)
        for row in rows:
            groups[bucket_start(row.at, bucket)].append(row)
        result["buckets"] = [
            {"start": key, **_summary(group)} for key, group in sorted(groups.items())
        ]
    return result


def stats_rows(
    session: Session,
    *,
    agent_id: str | None = None,
    team: str | None = None,
    start: datetime,
    end: datetime,
) -> list[CallStats]:
    query = select(CallStats).where(CallStats.at >= start, CallStats.at < end)
    if agent_id is not None:
        query = query.where(CallStats.agent_id == agent_id)
    if team is not None:
        query = query.where(CallStats.team == team)
    return list(session.scalars(query))


def agent_kpis(
    session: Session, agent_id: str, start: datetime, end: datetime, bucket: str | None
) -> dict[str, Any]:
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise NotFound(f"No agent with id {agent_id!r}.")
    rows = stats_rows(session, agent_id=agent_id, start=start, end=end)
    return {
        "agent_id": agent_id,
        "agent_name": agent.name,
        "team": agent.team,
        **_period(start, end, bucket),
        **aggregate(rows, bucket),
    }


def team_kpis(
    session: Session, team: str, start: datetime, end: datetime, bucket: str | None
) -> dict[str, Any]:
    if session.scalar(select(func.count()).select_from(Agent).where(Agent.team == team)) == 0:
        raise NotFound(f"No team {team!r}.")
    rows = stats_rows(session, team=team, start=start, end=end)
    result = {"team": team, **_period(start, end, bucket), **aggregate(rows, bucket)}
    result["agents"] = sorted({r.agent_id for r in rows})
    return result


def leaderboard(
    session: Session,
    metric: str,
    start: datetime,
    end: datetime,
    team: str | None,
    ascending: bool = False,
) -> list[dict[str, Any]]:
    by_agent: dict[str, list[float]] = defaultdict(list)
    for row in stats_rows(session, team=team, start=start, end=end):
        if metric in row.values:
            by_agent[row.agent_id].append(float(row.values[metric]))
    board: list[dict[str, Any]] = [
        {"agent_id": a, "calls": len(v), "mean": round(statistics.fmean(v), 4)}
        for a, v in by_agent.items()
    ]
    board.sort(key=lambda r: (float(r["mean"]) * (1 if ascending else -1), str(r["agent_id"])))
    return [{"rank": i + 1, **r} for i, r in enumerate(board)]


def _period(start: datetime, end: datetime, bucket: str | None) -> dict[str, Any]:
    return {"from": start.isoformat(), "to": end.isoformat(), "bucket": bucket}
