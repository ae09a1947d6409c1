"""The call list: the calls behind any KPI figure, found by search and filters, sorted, paged.

The same filters as the KPI routes give the same calls. Rows carry what a reviewer scans a list
for (score, critical fail, duration, the customer's sentiment shift, and for a search the
matching utterances with their times); the score is the one the KPIs count. "Time" is when the
call started, or when it arrived where the upstream sent no start (the time a list shows).
Sorted by time the list pages by keyset on (that time, id), stable while calls arrive and with
ties; sorted by another column it pages by position. The cursor is opaque to clients either way.
:func:`count_calls` counts every match and :func:`iter_calls` walks them all (for exports).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from speechqa import access
from speechqa.apikeys import Principal
from speechqa.calls import search
from speechqa.errors import InvalidInput
from speechqa.kpis.period import parse_period
from speechqa.scoring.evaluations import FINAL
from speechqa.storage.tables import Agent, Call, CallStats, Review

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
    """Only these teams' calls (a review queue's)."""
    viewer: Principal | None = None
    """Only the calls this principal may see (:func:`speechqa.access.calls`)."""

    def between(self, from_: str | None, to: str | None) -> CallFilters:
        """These filters limited to a period given as query parameters (dates or datetimes)."""
        if from_ is None and to is None:
            return self
        start, end, _ = parse_period(from_ or "1970-01-01", to or "2999-12-31", None)
        return replace(self, start=start, end=end)

    def searching(self, q: str | None) -> CallFilters:
        return self if q is None else replace(self, terms=tuple(search.parse(q)))

    def seen_by(self, principal: Principal) -> CallFilters:
        """These filters limited to the calls ``principal`` may see."""
        return replace(self, viewer=principal)

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
    agent_name: str | None = None
    """As the upstream sent it (``agent_name``), where it did."""
    direction: str | None = None
    received_at: str | None = None
    """When the call arrived (shown where the upstream sent no ``started_at``)."""
    disputed: bool = False
    """Its counted review is disputed and no lead has settled it."""
    url: str | None = None
    """The call document's address, filled in by the edge that serves the row (the API)."""


@dataclass(frozen=True)
class CallPage:
    rows: list[CallRow]
    next_cursor: str | None


def _encode(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def encode_cursor(created_at: datetime, call_id: str) -> str:
    return _encode(f"{created_at.isoformat()}|{call_id}")


def decode_cursor(cursor: str) -> tuple[datetime, str] | int:
    """A keyset position (shown time, id) or, for other sorts, the number of rows to skip."""
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
    query = _ordered(_where(session, _select(), filters), sort, descending, cursor)
    position = decode_cursor(cursor) if cursor else None
    skip = position if isinstance(position, int) else 0
    if not _needs_python(filters):
        query = query.limit(skip + limit)  # every filter is in SQL: let the database stop early
    found: list[tuple[Call, CallStats | None, str | None]] = []
    matched = 0
    for call, stats, name in _matching(session, query, filters):
        matched += 1
        if matched <= skip:
            continue
        found.append((call, stats, name))
        if len(found) >= limit:
            break
    rows = _rows(session, found, filters)
    next_cursor = None
    if len(found) == limit:
        last = found[-1][0]
        next_cursor = (
            encode_cursor(shown_time(last), last.id) if sort == "time" else _encode(f"@{matched}")
        )
    return CallPage(rows, next_cursor)


def iter_calls(
    session: Session, filters: CallFilters, *, sort: Sort = "time", descending: bool = True
) -> Iterator[CallRow]:
    """Every call matching ``filters`` in order, read in batches (for an export)."""
    _check_sort(sort)
    query = _ordered(_where(session, _select(), filters), sort, descending, None)
    batch: list[tuple[Call, CallStats | None, str | None]] = []
    for found in _matching(session, query, filters):
        batch.append(found)
        if len(batch) >= 200:
            yield from _rows(session, batch, filters)
            batch = []
    yield from _rows(session, batch, filters)


def count_calls(session: Session, filters: CallFilters) -> int:
    """How many calls match ``filters`` (all pages)."""
    if not _needs_python(filters):
        query = _where(
            session,
            select(func.count())
            .select_from(Call)
            .outerjoin(CallStats, CallStats.call_id == Call.id),
            filters,
        )
        return int(session.scalar(query) or 0)
    query = _where(
        session,
        select(Call.tags, CallStats.rules_hit).outerjoin(CallStats, CallStats.call_id == Call.id),
        filters,
    )
    total = 0
    for tags, hit in session.execute(query.execution_options(yield_per=1000)):
        total += _keeps(filters, tags, hit)
    return total


def unknown_rules(session: Session, filters: CallFilters) -> list[str]:
    """The rule names in the rule filters that are in no ruleset and were never hit (a typo)."""
    from speechqa.rules import versions  # the rules import the calls; only this needs them back

    asked = list(dict.fromkeys(r for r in (filters.rule, filters.rule_missed) if r is not None))
    if not asked:
        return []
    known: set[str] = set()
    for entry in versions.names(session):
        known |= set(versions.get(session, entry["name"]).rules)
    if set(asked) - known:  # rules of older versions live on in the calls they scored
        for (hit,) in session.execute(select(CallStats.rules_hit)):
            known |= set(hit or [])
    return [r for r in asked if r not in known]


def shown_time(call: Call) -> datetime:
    """The time a list shows and sorts a call by: its start, else its arrival."""
    return call.started_at or call.created_at


def _check_sort(sort: str) -> None:
    if sort not in SORTS:
        raise InvalidInput(f"'sort' is one of {', '.join(SORTS)}.", details={"parameter": "sort"})


def _select() -> Any:
    return (
        select(Call, CallStats, Agent.name)
        .outerjoin(CallStats, CallStats.call_id == Call.id)
        .outerjoin(Agent, Agent.id == Call.agent_id)
    )


def _ordered(query: Any, sort: str, descending: bool, cursor: str | None) -> Any:
    _check_sort(sort)
    position = decode_cursor(cursor) if cursor else None
    if sort == "time":
        when = func.coalesce(Call.started_at, Call.created_at)
        if isinstance(position, tuple):
            at, call_id = position
            if descending:
                query = query.where((when < at) | ((when == at) & (Call.id < call_id)))
            else:
                query = query.where((when > at) | ((when == at) & (Call.id > call_id)))
        return query.order_by(*(c.desc() if descending else c.asc() for c in (when, Call.id)))
    key = {
        "score": CallStats.values["qa_score"].as_float(),
        "duration": Call.duration_s,
        "sentiment_shift": CallStats.values["customer_sentiment_shift"].as_float(),
    }[sort]
    return query.order_by(
        (key.desc() if descending else key.asc()).nulls_last(),
        Call.id.desc() if descending else Call.id.asc(),
    )


def _needs_python(filters: CallFilters) -> bool:
    # Rule and tag filters read JSON lists, so they are applied in Python, batch by batch.
    return not (filters.rule is None and filters.rule_missed is None and filters.tag is None)


def _matching(
    session: Session, query: Any, filters: CallFilters
) -> Iterator[tuple[Call, CallStats | None, str | None]]:
    for batch in session.execute(query.execution_options(yield_per=500)).tuples().partitions():
        for call, stats, name in batch:
            if _keeps(filters, call.tags, stats.rules_hit if stats else None):
                yield call, stats, name


def _rows(
    session: Session,
    found: list[tuple[Call, CallStats | None, str | None]],
    filters: CallFilters,
) -> list[CallRow]:
    if not found:
        return []
    ids = [c.id for c, _, _ in found]
    hits = search.matches(session, ids, filters.terms)
    disputed = set(
        session.scalars(
            select(Review.call_id).where(
                Review.call_id.in_(ids),
                Review.status == "disputed",
                Review.calibration_id.is_(None),
                Review.self_review.is_(False),
            )
        )
    )
    return [
        _row(call, stats, hits.get(call.id, []), name, call.id in disputed)
        for call, stats, name in found
    ]


def _where(session: Session, query: Any, filters: CallFilters) -> Any:
    when = func.coalesce(Call.started_at, Call.created_at)
    if filters.viewer is not None:
        query = query.where(access.calls(filters.viewer))
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
        Review.calibration_id.is_(None),
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


def _keeps(filters: CallFilters, tags: list[Any] | None, rules_hit: list[Any] | None) -> bool:
    """The filters SQL does not apply (a call without stats has rules_hit None)."""
    hit = set(rules_hit or [])
    if filters.rule is not None and filters.rule not in hit:
        return False
    if filters.rule_missed is not None and (rules_hit is None or filters.rule_missed in hit):
        return False
    return filters.tag is None or filters.tag in (tags or [])


def _row(
    call: Call,
    stats: CallStats | None,
    hits: list[search.Match],
    agent_name: str | None = None,
    disputed: bool = False,
) -> CallRow:
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
        agent_name=agent_name,
        direction=call.direction,
        received_at=call.created_at.isoformat(),
        disputed=disputed,
    )
