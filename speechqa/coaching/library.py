"""The coaches' clip library: named collections ("great empathy") of spans of calls.

Collections are shared by coaches; a coach limited to teams sees only the clips of calls
they may see. A clip keeps the words said in it, taken from the transcript when saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from speechqa import access
from speechqa.access import Action
from speechqa.apikeys import Principal
from speechqa.calls import repository
from speechqa.errors import Conflict, InvalidInput, NotFound
from speechqa.storage.tables import Call, Clip, ClipCollection, utcnow

MAX_CLIP_S = 600.0
MAX_TEXT = 2000


@dataclass(frozen=True)
class ClipView:
    id: int
    call_id: str
    agent_id: str
    speaker: str | None
    start: float
    end: float
    text: str | None
    note: str | None
    added_by: str
    added_at: datetime
    audio_url: str
    """Plays just this span (a WAV clip)."""


@dataclass(frozen=True)
class CollectionView:
    id: int
    name: str
    description: str | None
    created_by: str
    created_at: datetime
    clip_count: int
    clips: list[ClipView] | None
    """The clips the caller may see; only when one collection is read."""


def create(
    session: Session, principal: Principal, name: str, description: str | None
) -> CollectionView:
    access.require(principal, Action.COACH)
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidInput("A collection's name is 1 to 200 characters.", details={"field": "name"})
    if session.scalar(select(ClipCollection.id).where(ClipCollection.name == name)) is not None:
        raise Conflict(f"A collection named {name!r} exists.")
    row = ClipCollection(
        name=name,
        description=(description or None) and description[:MAX_TEXT],
        created_by=principal.who,
        created_at=utcnow(),
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # created at the same moment by someone else
        raise Conflict(f"A collection named {name!r} exists.") from None
    return CollectionView(row.id, row.name, row.description, row.created_by, row.created_at, 0, [])


def named(session: Session, principal: Principal, name: str) -> CollectionView | None:
    """The collection of that name (names are unique), or None."""
    access.require(principal, Action.COACH)
    found = session.scalar(select(ClipCollection.id).where(ClipCollection.name == name.strip()))
    return None if found is None else get(session, principal, found)


def list_all(session: Session, principal: Principal) -> list[CollectionView]:
    """Every collection, each counting the clips the caller may see."""
    access.require(principal, Action.COACH)
    counted = (
        select(Clip.collection_id, func.count())
        .where(access.clips(principal))
        .group_by(Clip.collection_id)
    )
    counts = dict(session.execute(counted).tuples().all())
    rows = session.scalars(select(ClipCollection).order_by(ClipCollection.name))
    return [
        CollectionView(
            r.id, r.name, r.description, r.created_by, r.created_at, counts.get(r.id, 0), None
        )
        for r in rows
    ]


def get(session: Session, principal: Principal, collection_id: int) -> CollectionView:
    access.require(principal, Action.COACH)
    row = _collection(session, collection_id)
    query = (
        select(Clip, Call.agent_id, Call.team)
        .join(Call, Call.id == Clip.call_id)
        .where(Clip.collection_id == row.id)
        .where(access.clips(principal))
        .order_by(Clip.added_at, Clip.id)
    )
    clips = [_clip_view(clip, agent_id) for clip, agent_id, _team in session.execute(query)]
    return CollectionView(
        row.id, row.name, row.description, row.created_by, row.created_at, len(clips), clips
    )


def add(
    session: Session,
    principal: Principal,
    collection_id: int,
    *,
    call_id: str,
    start: float,
    end: float,
    speaker: str | None = None,
    note: str | None = None,
) -> ClipView:
    """Save a span of a call into a collection, with the words said in it."""
    access.require(principal, Action.COACH)
    collection = _collection(session, collection_id)
    call = repository.get_call(session, call_id)
    access.check_call(principal, call)
    if start < 0 or end <= start or end - start > MAX_CLIP_S:
        raise InvalidInput(
            f"A clip runs forward, from 0 s, for at most {MAX_CLIP_S:g} s.",
            details={"field": "end"},
        )
    if call.duration_s is not None and start >= call.duration_s:
        raise InvalidInput(f"The call is {call.duration_s:g} s long.", details={"field": "start"})
    text = (repository.said_between(session, call.id, start, end, speaker) or "")[:MAX_TEXT] or None
    clip = Clip(
        collection_id=collection.id,
        call_id=call.id,
        speaker=speaker,
        start=start,
        end=end,
        text=text,
        note=(note or None) and note[:MAX_TEXT],
        added_by=principal.who,
        added_at=utcnow(),
    )
    session.add(clip)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict("That span of that call is already in the collection.") from None
    return _clip_view(clip, call.agent_id)


def remove(session: Session, principal: Principal, collection_id: int, clip_id: int) -> None:
    access.require(principal, Action.COACH)
    clip = session.get(Clip, clip_id)
    if clip is None or clip.collection_id != collection_id:
        raise NotFound(f"No clip {clip_id} in collection {collection_id}.")
    access.check_call(principal, repository.get_call(session, clip.call_id))
    session.delete(clip)


def _collection(session: Session, collection_id: int) -> ClipCollection:
    row = session.get(ClipCollection, collection_id)
    if row is None:
        raise NotFound(f"No collection {collection_id}.")
    return row


def clip_url(call_id: str, start: float, end: float) -> str:
    """The API address that plays just ``start``..``end`` of a call."""
    return f"/v1/calls/{call_id}/audio?start={start:g}&end={end:g}"


def _clip_view(clip: Clip, agent_id: str) -> ClipView:
    return ClipView(
        clip.id,
        clip.call_id,
        agent_id,
        clip.speaker,
        clip.start,
        clip.end,
        clip.text,
        clip.note,
        clip.added_by,
        clip.added_at,
        clip_url(clip.call_id, clip.start, clip.end),
    )
