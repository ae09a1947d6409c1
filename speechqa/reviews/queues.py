"""Review queues: which calls reviewers work on, chosen by a rule anyone can audit.

A queue has a sampling rule and reviewers. Sampling picks analysed calls the queue has not
picked before and deals them to the reviewers in turn; each picked call keeps a copy of the rule
that chose it and when. Rules:

- ``random_per_agent``: ``per_agent`` random calls of each agent whose calls were received in
  the last ``days`` (7: "N random calls per agent per week");
- ``filter``: the newest calls matching any call-list filters (``critical_fail``, ``max_score``,
  ``customer_sentiment``, ``rule_missed``...), at most ``limit``.

A queue may be limited to ``teams`` (in its rule): it picks only those teams' calls, and only
callers who see all of them see the queue. A lead limited to teams makes queues over their
teams only (their teams when the rule names none). A reviewer's queue (``GET /v1/me/queue``)
lists what was dealt to them, is not yet reviewed by them, and they may see.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from speechqa import access
from speechqa.access import Action
from speechqa.apikeys import Principal
from speechqa.calls.listing import CallFilters, list_calls
from speechqa.errors import Conflict, InvalidInput, NotFound
from speechqa.scoring.evaluations import FINAL
from speechqa.storage.tables import (
    Call,
    CallStatus,
    QueueItem,
    Review,
    ReviewQueue,
    User,
    utcnow,
)

FILTER_FIELDS = {
    "agent_id", "team", "status", "rule", "rule_missed", "critical_fail", "min_score",
    "max_score", "customer_sentiment", "tag",
}  # fmt: skip
MAX_SAMPLE = 1000


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
    if kind == "random_per_agent":
        per_agent, days = rule.get("per_agent", 1), rule.get("days", 7)
        if not (isinstance(per_agent, int) and 1 <= per_agent <= 100):
            raise InvalidInput("'per_agent' is a whole number from 1 to 100.")
        if not (isinstance(days, int) and 1 <= days <= 366):
            raise InvalidInput("'days' is a whole number from 1 to 366.")
        return {"kind": kind, "per_agent": per_agent, "days": days}
    if kind == "filter":
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
    known = set(session.scalars(select(User.name).where(User.name.in_(reviewers))))
    missing = sorted(set(reviewers) - known)
    if missing:
        raise InvalidInput(f"No user {', '.join(missing)}.", details={"unknown": missing})
    queue = ReviewQueue(name=name, rule=rule, reviewers=list(dict.fromkeys(reviewers)),
                        created_by=by.who, created_at=utcnow())  # fmt: skip
    try:
        with session.begin_nested():
            session.add(queue)
    except IntegrityError:
        raise Conflict(f"A queue named {name!r} exists.") from None
    return _info(queue)


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


def sample(
    session: Session, principal: Principal, queue_id: int, rng: random.Random | None = None
) -> list[Assignment]:
    """Pick calls by the queue's rule (never one it picked before) and deal them round-robin."""
    access.require(principal, Action.MANAGE_QUEUES)
    queue = _visible(session, principal, queue_id)
    taken = set(session.scalars(select(QueueItem.call_id).where(QueueItem.queue_id == queue.id)))
    picked = _pick(session, queue.rule, taken, rng or random.Random())
    turn = len(taken) % len(queue.reviewers)  # carry on where the last run stopped
    now = utcnow()
    out = []
    for n, call in enumerate(picked):
        reviewer = queue.reviewers[(turn + n) % len(queue.reviewers)]
        session.add(QueueItem(queue_id=queue.id, call_id=call.id, assignee=reviewer,
                              rule=queue.rule, sampled_at=now))  # fmt: skip
        out.append(_assignment(call, queue.name, queue.rule, now))
    session.flush()
    return out


def my_queue(session: Session, principal: Principal) -> list[Assignment]:
    """What was dealt to the caller, they have not reviewed yet and may see, oldest first."""
    access.require(principal, Action.WORK_QUEUE)
    reviewed = select(Review.call_id).where(
        Review.reviewer == principal.who, Review.status.in_(FINAL)
    )
    rows = session.execute(
        select(QueueItem, Call, ReviewQueue.name)
        .join(Call, Call.id == QueueItem.call_id)
        .join(ReviewQueue, ReviewQueue.id == QueueItem.queue_id)
        .where(QueueItem.assignee == principal.who, QueueItem.call_id.not_in(reviewed))
        .where(access.visible(principal, agent_id=Call.agent_id, team=Call.team))
        .order_by(QueueItem.sampled_at, QueueItem.id)
    )
    return [_assignment(call, name, item.rule, item.sampled_at) for item, call, name in rows]


def list_queues(session: Session, principal: Principal) -> list[QueueInfo]:
    """The queues over teams the caller sees (a queue of every team: unlimited callers)."""
    access.require(principal, Action.WORK_QUEUE)
    rows = session.scalars(select(ReviewQueue).order_by(ReviewQueue.name))
    return [_info(q) for q in rows if access.may_see_teams(principal, q.rule.get("teams"))]


def _visible(session: Session, principal: Principal, queue_id: int) -> ReviewQueue:
    queue = session.get(ReviewQueue, queue_id)
    if queue is None or not access.may_see_teams(principal, queue.rule.get("teams")):
        raise NotFound(f"No queue {queue_id}.")
    return queue


def _pick(
    session: Session, rule: dict[str, Any], taken: set[str], rng: random.Random
) -> list[Call]:
    if rule["kind"] == "filter":
        filters = CallFilters(**{"status": CallStatus.DONE, **rule["filters"]})
        if rule.get("teams"):
            filters = replace(filters, teams=frozenset(rule["teams"]))
        page = list_calls(session, filters, limit=rule["limit"] + len(taken))
        ids = [r.id for r in page.rows if r.id not in taken][: rule["limit"]]
        found = {c.id: c for c in session.scalars(select(Call).where(Call.id.in_(ids)))}
        return [found[i] for i in ids]
    since = utcnow() - timedelta(days=rule["days"])
    by_agent: dict[str, list[Call]] = defaultdict(list)
    query = select(Call).where(Call.status == CallStatus.DONE, Call.created_at >= since)
    if rule.get("teams"):
        query = query.where(Call.team.in_(rule["teams"]))
    for call in session.scalars(query.order_by(Call.created_at, Call.id)):
        if call.id not in taken:
            by_agent[call.agent_id].append(call)
    picked: list[Call] = []
    for agent in sorted(by_agent):
        calls = by_agent[agent]
        picked += rng.sample(calls, min(rule["per_agent"], len(calls)))
    return picked


def _assignment(call: Call, queue: str, rule: dict[str, Any], at: datetime) -> Assignment:
    return Assignment(call.id, queue, rule, at, call.agent_id, call.team,
                      call.started_at.isoformat() if call.started_at else None)  # fmt: skip


def _info(queue: ReviewQueue) -> QueueInfo:
    return QueueInfo(queue.id, queue.name, dict(queue.rule), list(queue.reviewers),
                     queue.created_by, queue.created_at)  # fmt: skip
