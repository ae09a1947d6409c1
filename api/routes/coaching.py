"""Coaching: example clips, the clip library, and sessions with their before/after impact."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from speechqa.coaching import examples, library, sessions

from ..deps import MAX_ID, AcknowledgeCoaching, Coach, ReadCoaching, SessionDep, SettingsDep
from ..schemas import (
    ERRORS,
    ClipCreate,
    CoachingSessionCreate,
    CollectionCreate,
    ErrorResponse,
    ExampleList,
)

router = APIRouter(prefix="/v1/coaching", tags=["coaching"], responses=ERRORS)


def _id() -> Any:
    """A fresh Path per parameter (FastAPI names a shared one after its first use)."""
    return Path(ge=1, le=MAX_ID)


CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "It exists, or is in another state"}
}
Name = Annotated[str | None, Query(min_length=1, max_length=200)]


@router.get("/examples", response_model=ExampleList)
def find_examples(
    session: SessionDep,
    principal: Coach,
    quality: Literal["good", "bad"],
    rule: Name = None,
    item: Annotated[str | None, Query(pattern=r"^\d{1,3}\.\d{1,3}$")] = None,
    kpi: Name = None,
    ruleset: Name = None,
    agent_id: Name = None,
    team: Name = None,
    limit: Annotated[int, Query(ge=1, le=examples.MAX_LIMIT)] = 10,
) -> ExampleList:
    """Clips of good or bad examples of a rule, a scorecard item (``item=2.0``, with
    ``ruleset``) or a KPI, clearest first: confirmed by a reviewer, then word confidence and
    length, newest among equals, one per agent before any agent's second."""
    query = examples.ExampleQuery(quality, rule, item, kpi, ruleset, agent_id, team, limit)
    return ExampleList(items=examples.find(session, principal, query))


@router.post(
    "/collections", status_code=201, response_model=library.CollectionView, responses=CONFLICT
)
def create_collection(
    body: CollectionCreate, session: SessionDep, principal: Coach
) -> library.CollectionView:
    """A named collection of clips, shared by coaches."""
    return library.create(session, principal, body.name, body.description)


@router.get("/collections", response_model=list[library.CollectionView])
def list_collections(session: SessionDep, principal: Coach) -> list[library.CollectionView]:
    return library.list_all(session, principal)


@router.get("/collections/{collection_id}", response_model=library.CollectionView)
def get_collection(
    session: SessionDep, principal: Coach, collection_id: int = _id()
) -> library.CollectionView:
    """A collection with the clips you may see, each with an address that plays it."""
    return library.get(session, principal, collection_id)


@router.post(
    "/collections/{collection_id}/clips",
    status_code=201,
    response_model=library.ClipView,
    responses=CONFLICT,
)
def add_clip(
    body: ClipCreate, session: SessionDep, principal: Coach, collection_id: int = _id()
) -> library.ClipView:
    """Save a span of a call (the words said in it are kept with it)."""
    return library.add(
        session,
        principal,
        collection_id,
        call_id=body.call_id,
        start=body.start,
        end=body.end,
        speaker=body.speaker,
        note=body.note,
    )


@router.delete(
    "/collections/{collection_id}/clips/{clip_id}", status_code=204, response_class=Response
)
def remove_clip(
    session: SessionDep, principal: Coach, collection_id: int = _id(), clip_id: int = _id()
) -> Response:
    library.remove(session, principal, collection_id, clip_id)
    return Response(status_code=204)


@router.post("/sessions", status_code=201, response_model=sessions.CoachingSessionView)
def create_session(
    body: CoachingSessionCreate, session: SessionDep, principal: Coach
) -> sessions.CoachingSessionView:
    """Record a coaching session: agent, focus, clips, notes, goals. Webhooks subscribed to
    ``coaching.session.created`` are told."""
    return sessions.create(
        session,
        principal,
        agent_id=body.agent_id,
        focus=body.focus,
        held_at=body.held_at,
        clips=[sessions.ClipRef(**c.model_dump()) for c in body.clips],
        notes=body.notes,
        goals=[sessions.Goal(g.focus, g.target, g.due) for g in body.goals],
    )


@router.get("/sessions", response_model=list[sessions.CoachingSessionView])
def list_sessions(
    session: SessionDep,
    principal: ReadCoaching,
    agent_id: Name = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[sessions.CoachingSessionView]:
    """Sessions newest first (an agent sees their own)."""
    return sessions.list_sessions(session, principal, agent_id=agent_id, limit=limit)


@router.get("/sessions/{session_id}", response_model=sessions.CoachingSessionView)
def get_session(
    session: SessionDep,
    settings: SettingsDep,
    principal: ReadCoaching,
    session_id: int = _id(),
    before_days: Annotated[int | None, Query(ge=1, le=365)] = None,
    after_days: Annotated[int | None, Query(ge=1, le=365)] = None,
) -> sessions.CoachingSessionView:
    """A session with its impact: each focus KPI over the agent's calls before and after it
    (``SPEECHQA_COACHING_WINDOW_DAYS`` each by default), the change with a 95% bootstrap
    interval or "not enough calls", and the rest of the team over the same windows."""
    return sessions.get(
        session, principal, session_id, settings, before_days=before_days, after_days=after_days
    )


@router.post(
    "/sessions/{session_id}/acknowledge",
    response_model=sessions.CoachingSessionView,
    responses=CONFLICT,
)
def acknowledge_session(
    session: SessionDep, principal: AcknowledgeCoaching, session_id: int = _id()
) -> sessions.CoachingSessionView:
    """The coached agent acknowledges the session."""
    return sessions.acknowledge(session, principal, session_id)
