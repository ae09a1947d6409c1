"""The call list: the calls behind any KPI figure, filtered, newest first, paged by cursor.

The same filters as the KPI routes give the same calls. Rows carry what a reviewer scans a list
for (score, critical fail, duration); the score is the one the KPIs count. The cursor is opaque
to clients: it encodes where the previous page ended.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from speechqa.errors import InvalidInput
from speechqa.kpis.period import parse_period
from speechqa.storage.tables import Call, CallStats


@dataclass(frozen=True)
class CallFilters:
    agent_id: str | None = None
    team: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    status: str | None = None
    rule: str | None = None
    """Calls on which this rule was hit."""
    critical_fail: bool | None = None
    min_score: float | None = None
    max_score: float | None = None

    def between(self, from_: str | None, to: str | None) -> CallFilters:
        """These filters limited to a period given as query parameters (dates or datetimes)."""
        if from_ is None and to is None:
            return self
        start, end, _ = parse_period(from_ or "1970-01-01", to or "2999-12-31", None)
        return replace(self, start=start, end=end)


@dataclass(frozen=True)
class CallRow:
    id: str
    external_id: str | None
    agent_id: str
    team: str | None
    status: str
    started_at: str | None
    duration_s: float | None
    score: float | None
    critical_fail: bool | None


@dataclass(frozen=True)
class CallPage:
    rows: list[CallRow]
    next_cursor: str | None


def encode_cursor(created_at: datetime, call_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{call_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        stamp, call_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return datetime.fromisoformat(stamp), call_id
    except ValueError:
        raise InvalidInput(
            "The cursor is not one this API returned.", details={"parameter": "cursor"}
        ) from None


def list_calls(
    session: Session, filters: CallFilters, *, limit: int = 50, cursor: str | None = None
) -> CallPage:
    """One page of the calls matching ``filters``, newest received first."""
    query = select(Call, CallStats).outerjoin(CallStats, CallStats.call_id == Call.id)
    when = func.coalesce(Call.started_at, Call.created_at)
    for column, value in (
        (Call.agent_id, filters.agent_id),
        (Call.team, filters.team),
        (Call.status, filters.status),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.start is not None:
        query = query.where(when >= filters.start)
    if filters.end is not None:
        query = query.where(when < filters.end)
    if filters.critical_fail is not None:
        query = query.where(CallStats.critical_fail.is_(filters.critical_fail))
    if cursor:
        after_at, after_id = decode_cursor(cursor)
        query = query.where(
            (Call.created_at < after_at) | ((Call.created_at == after_at) & (Call.id < after_id))
        )
    query = query.order_by(Call.created_at.desc(), Call.id.desc())
    found: list[tuple[Call, CallStats | None]] = []
    # Rule and score filters read the JSON columns, so they are applied here, page by page.
    for batch in session.execute(query.execution_options(yield_per=500)).tuples().partitions():
        for call, stats in batch:
            if _matches(filters, stats):
                found.append((call, stats))
                if len(found) >= limit:
                    break
        if len(found) >= limit:
            break
    rows = [_row(call, stats) for call, stats in found]
    last = found[-1][0] if len(found) == limit else None
    return CallPage(rows, encode_cursor(last.created_at, last.id) if last else None)


def _matches(filters: CallFilters, stats: CallStats | None) -> bool:
    if filters.rule is not None and (stats is None or filters.rule not in stats.rules_hit):
        return False
    score = (stats.values if stats else {}).get("qa_score")
    if filters.min_score is not None and (score is None or score < filters.min_score):
        return False
    return not (filters.max_score is not None and (score is None or score > filters.max_score))


def _row(call: Call, stats: CallStats | None) -> CallRow:
    return CallRow(
        id=call.id,
        external_id=call.external_id,
        agent_id=call.agent_id,
        team=call.team,
        status=call.status,
        started_at=call.started_at.isoformat() if call.started_at else None,
        duration_s=call.duration_s,
        score=(stats.values if stats else {}).get("qa_score"),
        critical_fail=stats.critical_fail if stats else None,
    )
