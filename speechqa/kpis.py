"""KPIs: per-call records, the KPI journal, and aggregates per agent and team over a period.

When a call is scored, its numbers are written to ``call_stats`` (one narrow row, indexed by
agent and time, and by team and time) and each counter that fired to the journal
(``kpi_events``): every rule hit, a critical fail, each silence over 10 s, a customer sentiment
drop. Aggregates read only those rows, so an agent's quarter is one index range scan however
many calls the database holds; means and medians are computed from the rows themselves, and
every figure links to the calls behind it (``GET /v1/calls`` with the same filters).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from speechqa.errors import InvalidInput, NotFound
from speechqa.metrics import silences
from speechqa.models import Agent, CallStats, KpiEvent

BUCKETS = ("day", "week", "month")
SILENCE_EVENT_S = 10.0
SENTIMENT_DROP = -0.5


class CallFacts(Protocol):
    """What the KPI rows need of a call (a Call row, or a stored transcript)."""

    id: str
    agent_id: str
    team: str | None
    started_at: datetime | None
    created_at: datetime
    duration_s: float | None
    speech: dict[str, Any] | None


def _when(call: CallFacts) -> datetime:
    when = call.started_at or call.created_at
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def record(
    session: Session, call: CallFacts, evaluation: dict[str, Any] | None, measured: dict[str, float]
) -> None:
    """Write (or rewrite) a scored call's KPI row and journal entries.

    ``measured`` is the call's metrics by KPI name (``metrics.call_metrics``).
    """
    write(session, [rows_for(call, evaluation, measured)])


Rows = tuple[dict[str, Any], list[dict[str, Any]]]


def rows_for(
    call: CallFacts, evaluation: dict[str, Any] | None, measured: dict[str, float]
) -> Rows:
    """The call_stats row and the journal rows of one scored call."""
    at = _when(call)
    values: dict[str, float] = dict(measured)
    evaluation = evaluation or {}
    score = evaluation.get("score") or {}
    script = evaluation.get("script") or {}
    if score.get("value") is not None:
        values["qa_score"] = float(score["value"])
    if script.get("adherence") is not None:
        values["script_adherence"] = float(script["adherence"])
    rules = [r for r in evaluation.get("rules", []) if r.get("matched")]
    critical = bool(score.get("critical_fail"))
    stats = {
        "call_id": call.id,
        "agent_id": call.agent_id,
        "team": call.team,
        "at": at,
        "values": values,
        "rules_hit": [r["id"] for r in rules],
        "critical_fail": critical,
    }

    def event(
        counter: str, offset: float | None, value: float | None, detail: str | None
    ) -> dict[str, Any]:
        return {
            "call_id": call.id,
            "agent_id": call.agent_id,
            "team": call.team,
            "at": at + timedelta(seconds=offset or 0),
            "offset_s": offset,
            "counter": counter,
            "value": value,
            "detail": detail,
        }

    events = []
    for rule in rules:
        first = min(rule["hits"], key=lambda h: h["start"]) if rule.get("hits") else None
        events.append(
            event(
                f"rule:{rule['id']}",
                first["start"] if first else None,
                1.0,
                first["text"] if first else None,
            )
        )
    if critical:
        events.append(event("critical_fail", None, 1.0, None))
    for start, end in _silences(call):
        events.append(event("silence_over_10s", start, round(end - start, 2), None))
    shift = values.get("customer_sentiment_shift")
    if shift is not None and shift <= SENTIMENT_DROP:
        events.append(event("customer_sentiment_drop", None, shift, None))
    return stats, events


def write(session: Session, items: Sequence[Rows]) -> None:
    """Replace the KPI rows and journal entries of many calls at once (idempotent)."""
    if not items:
        return
    ids = [stats["call_id"] for stats, _ in items]
    session.execute(delete(CallStats).where(CallStats.call_id.in_(ids)))
    session.execute(delete(KpiEvent).where(KpiEvent.call_id.in_(ids)))
    session.execute(insert(CallStats), [stats for stats, _ in items])
    events = [e for _, evs in items for e in evs]
    if events:
        session.execute(insert(KpiEvent), events)


def _silences(call: CallFacts) -> list[tuple[float, float]]:
    if not call.speech:
        return []  # no voice-activity data: nothing to say about silence
    return silences(call.speech, call.duration_s or 0.0, SILENCE_EVENT_S)


def parse_period(
    start: str | None, end: str | None, bucket: str | None
) -> tuple[datetime, datetime, str | None]:
    """Validate query parameters; dates are ISO dates or datetimes, the end day is included."""

    def parse(name: str, value: str | None, default: datetime) -> datetime:
        if value is None:
            return default
        try:
            if len(value) == 10:
                return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(
                f"'{name}' must be a date (YYYY-MM-DD) or an ISO datetime, not {value!r}.",
                details={"parameter": name},
            ) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    now = datetime.now(UTC)
    lo = parse("from", start, now - timedelta(days=30))
    hi = parse("to", end, now)
    if end is not None and len(end) == 10:
        hi += timedelta(days=1)
    if hi <= lo:
        raise InvalidInput("'to' must be after 'from'.", details={"parameter": "to"})
    if bucket is not None and bucket not in BUCKETS:
        raise InvalidInput(
            f"'bucket' must be one of {', '.join(BUCKETS)}, not {bucket!r}.",
            details={"parameter": "bucket"},
        )
    return lo, hi, bucket


def _bucket_start(at: datetime, bucket: str) -> str:
    day = at.astimezone(UTC).date()
    if bucket == "week":
        day -= timedelta(days=day.weekday())
    elif bucket == "month":
        day = day.replace(day=1)
    return day.isoformat()


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
            groups[_bucket_start(row.at, bucket)].append(row)
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
) -> list[KpiEvent]:
    query = select(KpiEvent).where(KpiEvent.at >= start, KpiEvent.at < end)
    for column, value in (
        (KpiEvent.agent_id, agent_id),
        (KpiEvent.team, team),
        (KpiEvent.counter, counter),
    ):
        if value is not None:
            query = query.where(column == value)
    if after is not None:
        query = query.where(KpiEvent.id > after)
    return list(session.scalars(query.order_by(KpiEvent.id).limit(limit)))


def summary_report(
    session: Session, *, start: datetime, end: datetime, bucket: str | None, team: str | None = None
) -> list[dict[str, Any]]:
    """The journal aggregated per agent (and period): how often each counter fired."""
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    calls: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in stats_rows(session, team=team, start=start, end=end):
        key = (row.agent_id, _bucket_start(row.at, bucket) if bucket else "")
        calls[key].add(row.call_id)
    query = select(KpiEvent.agent_id, KpiEvent.at, KpiEvent.counter).where(
        KpiEvent.at >= start, KpiEvent.at < end
    )
    if team is not None:
        query = query.where(KpiEvent.team == team)
    for agent_id, at, counter in session.execute(query):
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        counts[(agent_id, _bucket_start(at, bucket) if bucket else "")][counter] += 1
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
