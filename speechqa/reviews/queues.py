"""Review queues: which calls reviewers work on, chosen by a rule anyone can audit.

A queue has a sampling rule and reviewers. Sampling picks analysed calls the queue has not
picked before and deals them to the reviewers in turn; each picked call keeps a copy of the rule
that chose it and when. Rules:

- ``random_per_agent``: ``per_agent`` random calls of each agent whose calls were received in
  the last ``days`` (7: "N random calls per agent per week");
- ``filter``: the newest calls matching any call-list filters (``critical_fail``, ``max_score``,
  ``customer_sentiment``, ``rule_missed``...), at most ``limit``.

Only calls that can be worked are picked and dealt: the one sampling sees the call
(:mod:`speechqa.access`), and the reviewer it goes to sees it too and has not reviewed it (no QA
review of theirs, draft or submitted). A call no reviewer of the queue could take is left for a
later run; the turn skips a reviewer who cannot take a call.

A queue may be limited to ``teams`` (in its rule): it picks only those teams' calls, and only
callers who see all of them see the queue. A lead limited to teams makes queues over their
teams only (their teams when the rule names none), and names only reviewers who see some of
the queue's calls. A reviewer's queue (``GET /v1/me/queue``) lists what was dealt to them, is
not yet reviewed by them, and they may see; a lead reads each queue's progress per reviewer.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from speechqa import access
from speechqa.access import Action
from speechqa.apikeys import Principal, user_principal
from speechqa.calls.listing import CallFilters, list_calls
from speechqa.errors import Conflict, InvalidInput, NotFound
from speechqa.scoring import evaluations
from speechqa.scoring.evaluations import FINAL, SUBMITTED
from speechqa.storage.tables import (
    Call,
    CallStats,
    CallStatus,
    QueueItem,
    Review,
    ReviewQueue,
    ReviewStatus,
    User,
    utcnow,
)
from speechqa.users import principals

FILTER_FIELDS = {
    "agent_id",
    "team",
    "status",
    "rule",
    "rule_missed",
    "critical_fail",
    "min_score",
    "max_score",
    "customer_sentiment",
    "tag",
}


class QueueKind(StrEnum):
    """How a queue samples its calls (a queue rule's ``kind``, stored in its JSON)."""

    RANDOM_PER_AGENT = "random_per_agent"
    """``per_agent`` calls of each agent from the last ``days`` days."""
    FILTER = "filter"
    """Up to ``limit`` calls that match ``filters`` (the call list's)."""
    ADDED = "added"
    """A call a lead put in the queue by hand."""


MAX_SAMPLE = 1000
_PAGE = 200


@dataclass(frozen=True)
class QueueInfo:
    id: int
    name: str
    rule: dict[str, Any]
    reviewers: list[str]
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class Assignment:
    call_id: str
    queue: str
    rule: dict[str, Any]
    sampled_at: datetime
    agent_id: str
    team: str | None
    started_at: str | None
    assignee: str = ""
    external_id: str | None = None
    duration_s: float | None = None
    score: float | None = None
    """The call's QA score (the counted review's, else the automatic one)."""
    review: ReviewStatus | None = None
    """The assignee's own QA review of it: None, or a draft while they work on it."""
    received_at: Annotated[datetime | None, Field(exclude=True)] = None
    """When the call arrived (for its label in the web app; the API does not show it)."""


@dataclass(frozen=True)
class ReviewerProgress:
    reviewer: str
    dealt: int
    reviewed: int
    """Dealt calls the reviewer has submitted a QA review of."""
    in_progress: int
    """Dealt calls with the reviewer's draft open."""
    remaining: int
    """Dealt, not yet reviewed, and visible to the reviewer (what their queue lists)."""
    out_of_reach: int
    """Dealt, not reviewed, and no longer visible to them (their teams changed since)."""


@dataclass(frozen=True)
class QueueProgress:
    queue: QueueInfo
    reviewers: list[ReviewerProgress]
    dealt: int
    reviewed: int
    remaining: int


def validate_rule(rule: dict[str, Any]) -> dict[str, Any]:
    teams = rule.get("teams")
    if teams is not None and not (
        isinstance(teams, list) and teams and all(isinstance(t, str) and t for t in teams)
    ):
        raise InvalidInput("'teams' is a list of team names.")
    limited = {"teams": sorted(set(teams))} if teams else {}
    return {**_validate_kind(rule), **limited}


def _validate_kind(rule: dict[str, Any]) -> dict[str, Any]:
    kind = rule.get("kind")
    if kind == QueueKind.RANDOM_PER_AGENT:
        per_agent, days = rule.get("per_agent", 1), rule.get("days", 7)
        if not (isinstance(per_agent, int) and 1 <= per_agent <= 100):
            raise InvalidInput("'per_agent' is a whole number from 1 to 100.")
        if not (isinstance(days, int) and 1 <= days <= 366):
            raise InvalidInput("'days' is a whole number from 1 to 366.")
        return {"kind": kind, "per_agent": per_agent, "days": days}
    if kind == QueueKind.FILTER:
        filters = rule.get("filters") or {}
        unknown = sorted(set(filters) - FILTER_FIELDS)
        if not isinstance(filters, dict) or unknown or not filters:
            raise InvalidInput(
                "A filter rule names call-list filters: " + ", ".join(sorted(FILTER_FIELDS)),
                details={"unknown": unknown},
            )
        limit = rule.get("limit", 50)
        if not (isinstance(limit, int) and 1 <= limit <= MAX_SAMPLE):
            raise InvalidInput(f"'limit' is a whole number from 1 to {MAX_SAMPLE}.")
        CallFilters(**filters)  # checks the values
        return {"kind": kind, "filters": filters, "limit": limit}
    raise InvalidInput("A rule's 'kind' is random_per_agent or filter.")


def create(
    session: Session, name: str, rule: dict[str, Any], reviewers: list[str], by: Principal
) -> QueueInfo:
    access.require(by, Action.MANAGE_QUEUES)
    rule = _within_teams(session, by, validate_rule(rule))
    if not reviewers:
        raise InvalidInput("A queue needs at least one reviewer.")
    people = principals(session, reviewers)
    missing = sorted(set(reviewers) - set(people))
    if missing:
        raise InvalidInput(f"No user {', '.join(missing)}.", details={"unknown": missing})
    teams = _teams_of(rule)
    access.require_each(people, Action.WORK_QUEUE, "cannot work a review queue")
    for reviewer, principal in people.items():
        if teams is not None and not any(access.sees_team(principal, t) for t in teams):
            raise InvalidInput(
                f"{reviewer} sees none of this queue's teams ({', '.join(sorted(teams))}), so "
                "no call could be dealt to them.",
                details={"reviewer": reviewer},
            )
    queue = ReviewQueue(
        name=name,
        rule=rule,
        reviewers=list(dict.fromkeys(reviewers)),
        created_by=by.who,
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(queue)
    except IntegrityError:
        raise Conflict(f"A queue named {name!r} exists.") from None
    return _info(queue)


def eligible_reviewers(session: Session, by: Principal, action: Action) -> list[str]:
    """The users ``by`` may name for ``action`` (work a queue, calibrate): those whose role
    allows it and who see some team ``by`` sees (or every team), by name."""
    out = []
    for user in session.scalars(select(User).order_by(User.name)):
        principal = user_principal(user)
        if not access.may(principal, action):
            continue
        if by.teams is None or principal.teams is None or principal.teams & by.teams:
            out.append(user.name)
    return out


def _within_teams(session: Session, by: Principal, rule: dict[str, Any]) -> dict[str, Any]:
    """The rule limited to the creator's teams; NotFound for a team or agent they do not see."""
    filters = rule.get("filters") or {}
    for team in [*rule.get("teams", []), *([filters["team"]] if filters.get("team") else [])]:
        access.see_team(by, str(team))
    if filters.get("agent_id"):
        access.agent_for(session, by, str(filters["agent_id"]))
    if by.teams is not None and "teams" not in rule:
        rule = {**rule, "teams": sorted(by.teams)}
    return rule


def _teams_of(rule: dict[str, Any]) -> set[str] | None:
    """The teams whose calls the rule can pick (None: any team, or calls of no team)."""
    teams = set(rule["teams"]) if rule.get("teams") else None
    team = (rule.get("filters") or {}).get("team")
    if team:
        teams = {str(team)} & teams if teams is not None else {str(team)}
    return teams


def _takers(session: Session, queue: ReviewQueue) -> Takers:
    """Per call, the queue's reviewers who could take it: who may see it and has not reviewed
    it (a removed user gets no more work)."""
    people = principals(session, queue.reviewers)
    reviewers = [r for r in queue.reviewers if r in people]

    def takers(calls: list[Call]) -> dict[str, list[str]]:
        ids = [c.id for c in calls]
        done = _reviewed_by(session, reviewers, ids)
        scored = evaluations.with_scorecard(session, ids)  # nothing to review without one
        return {
            c.id: [r for r in reviewers if (r, c.id) not in done and access.sees_call(people[r], c)]
            if c.id in scored
            else []
            for c in calls
        }

    return takers


def _deal(
    session: Session,
    queue: ReviewQueue,
    calls: list[Call],
    who_may: dict[str, list[str]],
    rule: dict[str, Any],
    turn: int,
) -> list[Assignment]:
    """Deal the calls in turn from ``turn``, each to the next reviewer who could take it."""
    now = utcnow()
    out = []
    n = len(queue.reviewers)
    for call in calls:
        order = [queue.reviewers[(turn + k) % n] for k in range(n)]
        reviewer = next(r for r in order if r in who_may[call.id])
        turn = (queue.reviewers.index(reviewer) + 1) % n
        session.add(
            QueueItem(
                queue_id=queue.id, call_id=call.id, assignee=reviewer, rule=rule, sampled_at=now
            )
        )
        out.append(_assignment(call, None, queue.name, rule, now, reviewer, None))
    session.flush()
    return out


def sample(
    session: Session, principal: Principal, queue_id: int, rng: random.Random | None = None
) -> list[Assignment]:
    """Pick calls by the queue's rule (never one it picked before) and deal them in turn, each
    to a reviewer who may see it and has not reviewed it."""
    access.require(principal, Action.MANAGE_QUEUES)
    queue = _visible(session, principal, queue_id)
    taken = set(session.scalars(select(QueueItem.call_id).where(QueueItem.queue_id == queue.id)))
    takers = _takers(session, queue)
    picked, who_may = _pick(session, principal, queue.rule, taken, takers, rng or random.Random())
    turn = len(taken) % len(queue.reviewers)  # carry on where the last run stopped
    return _deal(session, queue, picked, who_may, queue.rule, turn)


@dataclass(frozen=True)
class Refused:
    call_id: str
    reason: str


def add_calls(
    session: Session, principal: Principal, queue_id: int, call_ids: list[str]
) -> tuple[list[Assignment], list[Refused]]:
    """Chosen calls (each one the caller sees) dealt into the queue as its sampling would;
    a call already in it, outside its teams, or no reviewer of it could take, is refused."""
    access.require(principal, Action.MANAGE_QUEUES)
    queue = _visible(session, principal, queue_id)
    access.check_calls(session, principal, call_ids)
    taken = set(session.scalars(select(QueueItem.call_id).where(QueueItem.queue_id == queue.id)))
    found = {c.id: c for c in session.scalars(select(Call).where(Call.id.in_(call_ids)))}
    teams = _teams_of(queue.rule)
    refused: list[Refused] = []
    open_calls = []
    for call_id in call_ids:
        call = found[call_id]
        if call_id in taken:
            refused.append(Refused(call_id, "already in the queue"))
        elif teams is not None and call.team not in teams:
            refused.append(Refused(call_id, "outside the queue's teams"))
        else:
            open_calls.append(call)
    who_may = _takers(session, queue)(open_calls)
    scored = evaluations.with_scorecard(session, [c.id for c in open_calls])
    for call in open_calls:
        if call.id not in scored:
            refused.append(Refused(call.id, "its ruleset has no scorecard to review"))
        elif not who_may[call.id]:
            refused.append(Refused(call.id, "no reviewer of the queue may review it"))
    dealt = [c for c in open_calls if who_may[c.id]]
    rule = {
        "kind": QueueKind.ADDED,
        "by": principal.who,
        **({"teams": sorted(teams)} if teams else {}),
    }
    added = _deal(session, queue, dealt, who_may, rule, len(taken) % len(queue.reviewers))
    return added, refused


def _reviewed_by(
    session: Session, reviewers: list[str], call_ids: list[str]
) -> set[tuple[str, str]]:
    """(reviewer, call) pairs with a QA review (draft or final; not a calibration review)."""
    found: set[tuple[str, str]] = set()
    for chunk in range(0, len(call_ids), 500):
        rows = session.execute(
            select(Review.reviewer, Review.call_id).where(
                Review.reviewer.in_(reviewers),
                Review.call_id.in_(call_ids[chunk : chunk + 500]),
                Review.calibration_id.is_(None),
            )
        )
        found.update((r, c) for r, c in rows)
    return found


def my_queue(session: Session, principal: Principal) -> list[Assignment]:
    """What was dealt to the caller, they have not reviewed yet and may see, oldest first."""
    access.require(principal, Action.WORK_QUEUE)
    reviewed = select(Review.call_id).where(
        Review.reviewer == principal.who,
        Review.status.in_(SUBMITTED),
        Review.calibration_id.is_(None),
    )
    rows = session.execute(
        select(QueueItem, Call, CallStats, ReviewQueue.name)
        .join(Call, Call.id == QueueItem.call_id)
        .outerjoin(CallStats, CallStats.call_id == Call.id)
        .join(ReviewQueue, ReviewQueue.id == QueueItem.queue_id)
        .where(QueueItem.assignee == principal.who, QueueItem.call_id.not_in(reviewed))
        .where(access.calls(principal))
        .order_by(QueueItem.sampled_at, QueueItem.id)
    ).all()
    drafts = {c for _, c in _reviewed_by(session, [principal.who], [r[1].id for r in rows])}
    return [
        _assignment(
            call,
            stats,
            name,
            item.rule,
            item.sampled_at,
            item.assignee,
            ReviewStatus.DRAFT if call.id in drafts else None,
        )
        for item, call, stats, name in rows
    ]


def list_queues(session: Session, principal: Principal) -> list[QueueInfo]:
    """The queues over teams the caller sees (a queue of every team: unlimited callers)."""
    access.require(principal, Action.WORK_QUEUE)
    rows = session.scalars(select(ReviewQueue).order_by(ReviewQueue.name))
    return [_info(q) for q in rows if access.may_see_teams(principal, q.rule.get("teams"))]


def progress(session: Session, principal: Principal, queue_id: int) -> QueueProgress:
    """How far each reviewer of a queue has got: dealt, reviewed, in progress, remaining."""
    access.require(principal, Action.MANAGE_QUEUES)
    return _progress(session, _visible(session, principal, queue_id))


def all_progress(session: Session, principal: Principal) -> list[QueueProgress]:
    """Every queue the caller sees, with its progress (for a lead's overview)."""
    access.require(principal, Action.MANAGE_QUEUES)
    rows = session.scalars(select(ReviewQueue).order_by(ReviewQueue.name))
    return [
        _progress(session, q) for q in rows if access.may_see_teams(principal, q.rule.get("teams"))
    ]


def _progress(session: Session, queue: ReviewQueue) -> QueueProgress:
    items = session.execute(
        select(QueueItem.assignee, Call.id, Call.agent_id, Call.team)
        .join(Call, Call.id == QueueItem.call_id)
        .where(QueueItem.queue_id == queue.id)
    ).all()
    names = list(dict.fromkeys([*queue.reviewers, *(i.assignee for i in items)]))
    people = principals(session, names)
    status: dict[tuple[str, str], set[str]] = defaultdict(set)
    for chunk in range(0, len(items), 500):
        for reviewer, call_id, state in session.execute(
            select(Review.reviewer, Review.call_id, Review.status).where(
                Review.call_id.in_([i.id for i in items[chunk : chunk + 500]]),
                Review.reviewer.in_(names),
                Review.calibration_id.is_(None),
            )
        ):
            status[(reviewer, call_id)].add(state)
    counts: dict[str, dict[str, int]] = {n: defaultdict(int) for n in names}
    for item in items:
        states, tally = status.get((item.assignee, item.id), set()), counts[item.assignee]
        tally["dealt"] += 1
        if states & set(FINAL):
            tally["reviewed"] += 1
            continue
        who = people.get(item.assignee)
        if who is None or not access.sees_call(who, item):
            tally["out_of_reach"] += 1
            continue
        tally["remaining"] += 1
        if ReviewStatus.DRAFT in states:
            tally["in_progress"] += 1
    per = [
        ReviewerProgress(
            n, c["dealt"], c["reviewed"], c["in_progress"], c["remaining"], c["out_of_reach"]
        )
        for n, c in counts.items()
    ]
    return QueueProgress(
        _info(queue),
        per,
        sum(p.dealt for p in per),
        sum(p.reviewed for p in per),
        sum(p.remaining for p in per),
    )


def _visible(session: Session, principal: Principal, queue_id: int) -> ReviewQueue:
    queue = session.get(ReviewQueue, queue_id)
    if queue is None or not access.may_see_teams(principal, queue.rule.get("teams")):
        raise NotFound(f"No queue {queue_id}.")
    return queue


Takers = Callable[[list[Call]], dict[str, list[str]]]
"""Per call, the queue's reviewers who could take it."""


def _pick(
    session: Session,
    by: Principal,
    rule: dict[str, Any],
    taken: set[str],
    takers: Takers,
    rng: random.Random,
) -> tuple[list[Call], dict[str, list[str]]]:
    """The calls to deal (ones ``by`` sees, the queue has not picked, and some reviewer of it
    could take) and, per call, who could take it."""
    if rule["kind"] == QueueKind.FILTER:
        filters = CallFilters(**{"status": CallStatus.DONE, **rule["filters"]})
        if rule.get("teams"):
            filters = replace(filters, teams=frozenset(rule["teams"]))
        filters = filters.seen_by(by)
        picked: list[Call] = []
        who_may: dict[str, list[str]] = {}
        cursor = None
        while len(picked) < rule["limit"]:
            page = list_calls(session, filters, limit=_PAGE, cursor=cursor)
            ids = [r.id for r in page.rows if r.id not in taken]
            found = {c.id: c for c in session.scalars(select(Call).where(Call.id.in_(ids)))}
            batch = [found[i] for i in ids if i in found]
            fits = takers(batch)
            for call in batch:
                if fits[call.id] and len(picked) < rule["limit"]:
                    picked.append(call)
                    who_may[call.id] = fits[call.id]
            cursor = page.next_cursor
            if cursor is None:
                break
        return picked, who_may
    since = utcnow() - timedelta(days=rule["days"])
    query = select(Call).where(Call.status == CallStatus.DONE, Call.created_at >= since)
    query = query.where(access.calls(by))
    if rule.get("teams"):
        query = query.where(Call.team.in_(rule["teams"]))
    open_calls = [
        c for c in session.scalars(query.order_by(Call.created_at, Call.id)) if c.id not in taken
    ]
    who_may = {}
    for chunk in range(0, len(open_calls), 500):
        who_may.update(takers(open_calls[chunk : chunk + 500]))
    by_agent: dict[str, list[Call]] = defaultdict(list)
    for call in open_calls:
        if who_may[call.id]:
            by_agent[call.agent_id].append(call)
    picked = []
    for agent in sorted(by_agent):
        calls = by_agent[agent]
        picked += rng.sample(calls, min(rule["per_agent"], len(calls)))
    return picked, who_may


def _assignment(
    call: Call,
    stats: CallStats | None,
    queue: str,
    rule: dict[str, Any],
    at: datetime,
    assignee: str,
    review: ReviewStatus | None,
) -> Assignment:
    score = (stats.values or {}).get("qa_score") if stats is not None else None
    return Assignment(
        call.id,
        queue,
        rule,
        at,
        call.agent_id,
        call.team,
        call.started_at.isoformat() if call.started_at else None,
        assignee,
        call.external_id,
        call.duration_s,
        score,
        review,
        call.created_at,
    )


def _info(queue: ReviewQueue) -> QueueInfo:
    return QueueInfo(
        queue.id,
        queue.name,
        dict(queue.rule),
        list(queue.reviewers),
        queue.created_by,
        queue.created_at,
    )
