"""The KPI journal and the summary report (how often each counter fired per agent and period)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from speechqa.kpis.aggregates import stats_rows
from speechqa.kpis.period import bucket_start
from speechqa.storage.tables import KpiEvent


def journal(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    agent_id: str | None = None,
    team: str | None = None,
    counter: str | None = None,
    limit: int = 100,
    after: int | None = None,
    notable: bool = False,
    newest_first: bool = False,
) -> list[KpiEvent]:
    """Journal entries of the period, in the order they were written (``after``: a cursor).
    ``notable`` leaves out the routine rule hits (every call has several), keeping critical
    fails, long silences and mood drops; ``newest_first`` is for a page's latest entries."""
    query = select(KpiEvent).where(KpiEvent.at >= start, KpiEvent.at < end)
    if notable:
        query = query.where(KpiEvent.counter.not_like("rule:%"))
    for column, value in (
        (KpiEvent.agent_id, agent_id),
        (KpiEvent.team, team),
        (KpiEvent.counter, counter),
    ):
        if value is not None:
            query = query.where(column == value)
    if after is not None:
        query = query.where(KpiEvent.id > after)
    order = KpiEvent.id.desc() if newest_first else KpiEvent.id
    return list(session.scalars(query.order_by(order).limit(limit)))


def summary_report(
    session: Session, *, start: datetime, end: datetime, bucket: str | None, team: str | None = None
) -> list[dict[str, Any]]:
    """The journal aggregated per agent (and period): how often each counter fired."""
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    calls: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in stats_rows(session, team=team, start=start, end=end):
        key = (row.agent_id, bucket_start(row.at, bucket) if bucket else "")
        calls[key].add(row.call_id)
    query = select(KpiEvent.agent_id, KpiEvent.at, KpiEvent.counter).where(
        KpiEvent.at >= start, KpiEvent.at < end
    )
    if team is not None:
        query = query.where(KpiEvent.team == team)
    for agent_id, at, counter in session.execute(query):
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        counts[(agent_id, bucket_start(at, bucket) if bucket else "")][counter] += 1
    keys = sorted(set(counts) | set(calls))
    return [
        {
            "agent_id": a,
            "period": p or None,
            "calls": len(calls.get((a, p), ())),
            "counters": dict(sorted(counts[(a, p)].items())),
        }
        for a, p in keys
    ]


def as_rows(events: Iterable[KpiEvent]) -> list[dict[str, Any]]:
    return [
        {
            "id": e.id,
            "at": (e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC)).isoformat(),
            "agent_id": e.agent_id,
            "team": e.team,
            "call_id": e.call_id,
            "counter": e.counter,
            "offset_s": e.offset_s,
            "value": e.value,
            "detail": e.detail,
        }
        for e in events
    ]


def summary_table(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The summary report flattened for a spreadsheet: one column per counter, zeros filled."""
    rows = list(rows)
    counters = sorted({c for r in rows for c in r["counters"]})
    return [
        {
            "agent_id": r["agent_id"],
            "period": r["period"] or "",
            "calls": r["calls"],
            **{c: r["counters"].get(c, 0) for c in counters},
        }
        for r in rows
    ]
