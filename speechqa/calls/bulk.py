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

from sqlalchemy import select
from sqlalchemy.orm import Session

from speechqa import access
from speechqa.access import Action
from speechqa.apikeys import Principal
from speechqa.errors import InvalidInput
from speechqa.reviews import queues
from speechqa.storage.tables import Call
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


def add_to_queue(
    session: Session, principal: Principal, queue_id: int, call_ids: Sequence[str]
) -> BulkResult:
    """Deal the calls to the queue's reviewers in turn, as its sampling would
    (:func:`speechqa.reviews.queues.add_calls`)."""
    added, refused = queues.add_calls(session, principal, queue_id, _ids(call_ids))
    return BulkResult(
        [a.call_id for a in added],
        [Skipped(r.call_id, r.reason) for r in refused],
        {a.call_id: a.assignee for a in added},
    )
