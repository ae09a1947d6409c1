"""What a QA team does to many calls at once from the list: tag them, or add them to a queue.

Every call named must be one the caller sees (else NotFound for the first that is not, and
nothing changes). Tagging is a reviewer's (not an agent's): tags sort the team's work. Adding to
a review queue is a lead's, like sampling: each call goes to the next of the queue's reviewers,
in turn, who may see it and has not reviewed it; a call already in the queue, outside its
teams, or with no such reviewer is skipped and said so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from speechqa import access
from speechqa.access import Action
from speechqa.apikeys import Principal, Role
from speechqa.errors import InvalidInput, NotFound
from speechqa.scoring.evaluations import FINAL
from speechqa.storage.tables import Call, QueueItem, Review, ReviewQueue, User, utcnow
from speechqa.text import clean_name

MAX_CALLS = 500
MAX_TAGS = 50
"""A call holds at most this many tags (as ingest allows)."""


@dataclass(frozen=True)
class Skipped:
    call_id: str
    reason: str


@dataclass(frozen=True)
class BulkResult:
    changed: list[str]
    """The calls changed (tagged, untagged, or added)."""
    skipped: list[Skipped] = field(default_factory=list)
    assignees: dict[str, str] = field(default_factory=dict)
    """For a queue: who each added call went to."""


def _ids(call_ids: Sequence[str]) -> list[str]:
    ids = list(dict.fromkeys(c for c in call_ids if c))
    if not ids:
        raise InvalidInput("Select at least one call.", details={"field": "calls"})
    if len(ids) > MAX_CALLS:
        raise InvalidInput(f"Select at most {MAX_CALLS} calls at once.")
    return ids


def _tag(raw: str) -> str:
    tag = clean_name(raw, "tag")
    if not tag or len(tag) > 100:
        raise InvalidInput("A tag is 1 to 100 characters.", details={"field": "tags"})
    return tag


def tag_calls(
    session: Session,
    principal: Principal,
    call_ids: Sequence[str],
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
) -> BulkResult:
    """Add ``add`` and remove ``remove`` on each call (a tag already there stays once)."""
    access.require(principal, Action.TAG_CALLS)
    ids = _ids(call_ids)
    adding = list(dict.fromkeys(_tag(t) for t in add))
    removing = {_tag(t) for t in remove}
    if not adding and not removing:
        raise InvalidInput("Name a tag to add or remove.", details={"field": "tags"})
    access.check_calls(session, principal, ids)
    changed, skipped = [], []
    for call in session.scalars(select(Call).where(Call.id.in_(ids)).order_by(Call.id)):
        before = list(call.tags or [])
        after = [t for t in before if t not in removing]
        after += [t for t in adding if t not in after]
        if after == before:
            skipped.append(Skipped(call.id, "no change"))
        elif len(after) > MAX_TAGS:
            skipped.append(Skipped(call.id, f"a call holds at most {MAX_TAGS} tags"))
        else:
            call.tags = after
            changed.append(call.id)
    session.flush()
    return BulkResult(changed, skipped)


def _sees(user: User, call: Call) -> bool:
    if user.role == Role.AGENT:
        return bool(user.agent_id) and call.agent_id == user.agent_id
    return not user.teams or call.team in user.teams


def add_to_queue(
    session: Session, principal: Principal, queue_id: int, call_ids: Sequence[str]
) -> BulkResult:
    """Deal the calls to the queue's reviewers in turn, as its sampling would."""
    access.require(principal, Action.MANAGE_QUEUES)
    ids = _ids(call_ids)
    queue = session.get(ReviewQueue, queue_id)
    if queue is None or not access.may_see_teams(principal, queue.rule.get("teams")):
        raise NotFound(f"No queue {queue_id}.")
    access.check_calls(session, principal, ids)
    teams = queue.rule.get("teams")
    taken = set(session.scalars(
        select(QueueItem.call_id).where(QueueItem.queue_id == queue.id, QueueItem.call_id.in_(ids))
    ))  # fmt: skip
    users = {u.name: u for u in session.scalars(select(User).where(User.name.in_(queue.reviewers)))}
    reviewed = set(session.execute(
        select(Review.call_id, Review.reviewer).where(Review.call_id.in_(ids),
                                                      Review.status.in_(FINAL))
    ).tuples())  # fmt: skip
    dealt = session.scalar(select(func.count()).where(QueueItem.queue_id == queue.id)) or 0
    rule = {"kind": "added", "by": principal.who, **({"teams": teams} if teams else {})}
    now = utcnow()
    out = BulkResult([], [], {})
    calls = {c.id: c for c in session.scalars(select(Call).where(Call.id.in_(ids)))}
    for call_id in ids:
        call = calls[call_id]
        if call_id in taken:
            out.skipped.append(Skipped(call_id, "already in the queue"))
            continue
        if teams and call.team not in teams:
            out.skipped.append(Skipped(call_id, "outside the queue's teams"))
            continue
        n = len(queue.reviewers)
        order = [queue.reviewers[(dealt + k) % n] for k in range(n)]
        fit = [
            r for r in order
            if r in users and _sees(users[r], call) and (call_id, r) not in reviewed
        ]  # fmt: skip
        if not fit:
            out.skipped.append(Skipped(call_id, "no reviewer of the queue may review it"))
            continue
        session.add(QueueItem(queue_id=queue.id, call_id=call_id, assignee=fit[0],
                              rule=rule, sampled_at=now))  # fmt: skip
        out.changed.append(call_id)
        out.assignees[call_id] = fit[0]
        dealt += 1
    session.flush()
    return out
