"""The call list: the calls behind any KPI figure, found by search and filters, sorted, paged.

The same filters as the KPI routes give the same calls. Rows carry what a reviewer scans a list
for (score, critical fail, duration, the customer's sentiment shift, and for a search the
matching utterances with their times); the score is the one the KPIs count. Sorted by time the
list pages by keyset (stable while calls arrive); sorted by another column it pages by position.
The cursor is opaque to clients either way.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import false, func, select
from sqlalchemy.orm import Session

from speechqa.calls import search
from speechqa.errors import InvalidInput
from speechqa.kpis.period import parse_period
from speechqa.scoring.evaluations import FINAL
from speechqa.storage.tables import Call, CallStats, Review

Sort = Literal["time", "score", "duration", "sentiment_shift"]
SORTS: tuple[str, ...] = ("time", "score", "duration", "sentiment_shift")
SENTIMENT_BANDS = {"negative": (None, -0.2), "neutral": (-0.2, 0.2), "positive": (0.2, None)}
"""The customer's overall sentiment (mean of quarters, -1..1) in three bands."""


@dataclass(frozen=True)
class CallFilters:
    agent_id: str | None = None
    team: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    status: str | None = None
    rule: str | None = None
    """Calls on which this rule was hit."""
    rule_missed: str | None = None
    """Scored calls on which this rule was not hit."""
    critical_fail: bool | None = None
    min_score: float | None = None
    max_score: float | None = None
    customer_sentiment: str | None = None
    """negative, neutral or positive (see SENTIMENT_BANDS)."""
    tag: str | None = None
    terms: tuple[search.Term, ...] = ()
    """A full-text search (search.parse)."""
    reviewed: bool | None = None
    """With (or without) a submitted review."""
    disputed: bool | None = None
    """With a review the agent disputes and no lead has settled."""
    reviewer: str | None = None
    """Reviewed (submitted) by this user."""
    teams: frozenset[str] | None = None
    """Only these teams' calls (what a team-limited user sees)."""
    nothing: bool = False
    """Match no call (a filter for something the caller may not see)."""

    def between(self, from_: str | None, to: str | None) -> CallFilters:
        """These filters limited to a period given as query parameters (dates or datetimes)."""
        if from_ is None and to is None:
            return self
        start, end, _ = parse_period(from_ or "1970-01-01", to or "2999-12-31", None)
        return replace(self, start=start, end=end)

    def searching(self, q: str | None) -> CallFilters:
        return self if q is None else replace(self, terms=tuple(search.parse(q)))

    def __post_init__(self) -> None:
        if self.customer_sentiment is not None and self.customer_sentiment not in SENTIMENT_BANDS:
            raise InvalidInput(
                "'customer_sentiment' is negative, neutral or positive.",
                details={"parameter": "customer_sentiment"},
            )


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
    customer_sentiment_shift: float | None = None
    score_source: str | None = None
    tags: list[str] = field(default_factory=list)
    matches: list[search.Match] = field(default_factory=list)
    """For a search: the utterances that match, with their times."""


@dataclass(frozen=True)
class CallPage:
    rows: list[CallRow]
    next_cursor: str | None


def _encode(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def encode_cursor(created_at: datetime, call_id: str) -> str:
    return _encode(f"{created_at.isoformat()}|{call_id}")


def decode_cursor(cursor: str) -> tuple[datetime, str] | int:
    """A keyset position (received at, id) or, for other sorts, the number of rows to skip."""
    try:
        value = base64.urlsafe_b64decode(cursor.encode()).decode()
        if value.startswith("@"):
            offset = int(value[1:])
            if not 0 <= offset < 10_000_000:
                raise ValueError(value)
            return offset
        stamp, call_id = value.split("|", 1)
        return datetime.fromisoformat(stamp), call_id
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(
            "The cursor is not one this API returned.", details={"parameter": "cursor"}
        ) from None


def list_calls(
    session: Session,
    filters: CallFilters,
    *,
    limit: int = 50,
    cursor: str | None = None,
    sort: Sort = "time",
    descending: bool = True,
) -> CallPage:
    """One page of the calls matching ``filters``."""
    if sort not in SORTS:
        raise InvalidInput(f"'sort' is one of {', '.join(SORTS)}.", details={"parameter": "sort"})
    query = select(Call, CallStats).outerjoin(CallStats, CallStats.call_id == Call.id)
    query = _where(session, query, filters)
    position = decode_cursor(cursor) if cursor else None
    if sort == "time":
        if isinstance(position, tuple):
            at, call_id = position
            if descending:
                query = query.where(
                    (Call.created_at < at) | ((Call.created_at == at) & (Call.id < call_id))
                )
            else:
                query = query.where(
                    (Call.created_at > at) | ((Call.created_at == at) & (Call.id > call_id))
                )
        query = query.order_by(
            *(c.desc() if descending else c.asc() for c in (Call.created_at, Call.id))
        )
    else:
        key = {
            "score": CallStats.values["qa_score"].as_float(),
            "duration": Call.duration_s,
            "sentiment_shift": CallStats.values["customer_sentiment_shift"].as_float(),
        }[sort]
        query = query.order_by(
            (key.desc() if descending else key.asc()).nulls_last(),
            Call.id.desc() if descending else Call.id.asc(),
        )
    skip = position if isinstance(position, int) else 0
    if filters.rule is None and filters.rule_missed is None and filters.tag is None:
        query = query.limit(skip + limit)  # every filter is in SQL: let the database stop early
    found: list[tuple[Call, CallStats | None]] = []
    matched = 0
    # Rule and tag filters read JSON lists, so they are applied here, batch by batch.
    for batch in session.execute(query.execution_options(yield_per=500)).tuples().partitions():
        for call, stats in batch:
            if not _matches(filters, call, stats):
                continue
            matched += 1
            if matched <= skip:
                continue
            found.append((call, stats))
            if len(found) >= limit:
                break
        if len(found) >= limit:
            break
    hits = search.matches(session, [c.id for c, _ in found], filters.terms)
    rows = [_row(call, stats, hits.get(call.id, [])) for call, stats in found]
    next_cursor = None
    if len(found) == limit:
        last = found[-1][0]
        next_cursor = (
            encode_cursor(last.created_at, last.id) if sort == "time" else _encode(f"@{matched}")
        )
    return CallPage(rows, next_cursor)


def _where(session: Session, query: Any, filters: CallFilters) -> Any:
    when = func.coalesce(Call.started_at, Call.created_at)
    if filters.nothing:
        query = query.where(false())
    if filters.teams is not None:
        query = query.where(Call.team.in_(sorted(filters.teams)))
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
    score = CallStats.values["qa_score"].as_float()
    if filters.min_score is not None:
        query = query.where(score >= filters.min_score)
    if filters.max_score is not None:
        query = query.where(score <= filters.max_score)
    if filters.customer_sentiment is not None:
        low, high = SENTIMENT_BANDS[filters.customer_sentiment]
        mood = CallStats.values["customer_sentiment"].as_float()
        query = query.where(mood.is_not(None))
        if low is not None:
            query = query.where(mood >= low)
        if high is not None:
            query = query.where(mood < high)
    for condition in search.calls_containing(session, filters.terms):
        query = query.where(condition)
    final = select(Review.id).where(
        Review.call_id == Call.id,
        Review.status.in_(FINAL),
        Review.session_id.is_(None),
        Review.self_review.is_(False),
    )
    if filters.reviewed is not None:
        query = query.where(final.exists() if filters.reviewed else ~final.exists())
    if filters.disputed is not None:
        open_dispute = final.where(Review.status == "disputed").exists()
        query = query.where(open_dispute if filters.disputed else ~open_dispute)
    if filters.reviewer is not None:
        query = query.where(final.where(Review.reviewer == filters.reviewer).exists())
    return query


def _matches(filters: CallFilters, call: Call, stats: CallStats | None) -> bool:
    hit = set(stats.rules_hit) if stats else set()
    if filters.rule is not None and filters.rule not in hit:
        return False
    if filters.rule_missed is not None and (stats is None or filters.rule_missed in hit):
        return False
    return filters.tag is None or filters.tag in (call.tags or [])


def _row(call: Call, stats: CallStats | None, hits: list[search.Match]) -> CallRow:
    values = stats.values if stats else {}
    return CallRow(
        id=call.id,
        external_id=call.external_id,
        agent_id=call.agent_id,
        team=call.team,
        status=call.status,
        started_at=call.started_at.isoformat() if call.started_at else None,
        duration_s=call.duration_s,
        score=values.get("qa_score"),
        critical_fail=stats.critical_fail if stats else None,
        customer_sentiment_shift=values.get("customer_sentiment_shift"),
        score_source=stats.score_source if stats else None,
        tags=list(call.tags or []),
        matches=hits,
    )
