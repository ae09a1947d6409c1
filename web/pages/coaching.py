"""Coaching in the browser: find examples and play them, keep them in collections, record a
session, and read its before/after impact; agents read and acknowledge their sessions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any, cast
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response

from speechqa.access import Action
from speechqa.coaching import examples, library, sessions
from speechqa.errors import InvalidInput

from .. import charts
from ..deps import PageRoute, Viewer, allowed, back, database, form_of, render, settings_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Coach = Annotated[Viewer, Depends(allowed(Action.COACH))]
CoachedAgent = Annotated[Viewer, Depends(allowed(Action.ACKNOWLEDGE_COACHING))]
CoachingReader = Annotated[Viewer, Depends(allowed(Action.READ_COACHING))]


def _query(params: dict[str, str]) -> examples.ExampleQuery | None:
    if not any(params.get(k) for k in ("rule", "item", "kpi")):
        return None
    quality = params.get("quality", "good")
    if quality not in ("good", "bad"):
        raise InvalidInput("Ask for good or bad examples.")
    return examples.ExampleQuery(
        quality=cast(examples.Quality, quality),
        rule=params.get("rule") or None,
        item=params.get("item") or None,
        kpi=params.get("kpi") or None,
        ruleset=params.get("ruleset") or None,
        agent_id=params.get("agent_id") or None,
        team=params.get("team") or None,
        limit=10,
    )


@router.get("/coaching")
def coaching_page(request: Request, who: CoachingReader) -> Response:
    params = {k: v for k, v in request.query_params.items() if v}
    with database(request) as session:
        own = sessions.list_sessions(session, who.principal, limit=100)
        if not who.may("COACH"):
            return render(
                request,
                "coaching.html",
                who,
                params=params,
                found=None,
                collections=[],
                sessions=own,
            )
        query = _query(params)
        found = examples.find(session, who.principal, query) if query else None
        collections = library.list_all(session, who.principal)
    return render(
        request,
        "coaching.html",
        who,
        params=params,
        found=found,
        collections=collections,
        sessions=own,
        clip_param=clip_param,
    )


@router.post("/coaching/clips")
async def keep_clip(request: Request, who: Coach) -> Response:
    """Add a clip to a collection (a new one when a new name is given)."""
    form = await form_of(request, who)
    with database(request) as session:
        name = str(form.get("new_collection") or "").strip()
        existing = library.named(session, who.principal, name) if name else None
        if existing is not None:  # the name of one there is: add to it
            collection_id = existing.id
        elif name:
            collection_id = library.create(session, who.principal, name, None).id
        else:
            raw = str(form.get("collection") or "")
            if not raw.isdigit():
                raise InvalidInput("Choose a collection or name a new one.")
            collection_id = int(raw)
        library.add(
            session,
            who.principal,
            collection_id,
            call_id=str(form.get("call_id")),
            start=float(str(form.get("start"))),
            end=float(str(form.get("end"))),
            speaker=str(form.get("speaker") or "") or None,
        )
    return back(f"/coaching/collections/{collection_id}", "Clip kept.")


@router.get("/coaching/collections/{collection_id}")
def collection_page(collection_id: int, request: Request, who: Coach) -> Response:
    with database(request) as session:
        collection = library.get(session, who.principal, collection_id)
    return render(request, "collection.html", who, collection=collection)


@router.get("/coaching/sessions/new")
def new_session_page(request: Request, who: Coach) -> Response:
    """The session form, with the clips chosen from examples or a collection."""
    clips = []
    for raw in request.query_params.getlist("clip"):
        call_id, _, span = raw.partition("@")
        start, _, end = span.partition("-")
        clips.append({"call_id": call_id, "start": start, "end": end})
    return render(
        request,
        "session_new.html",
        who,
        clips=clips,
        agent_id=request.query_params.get("agent_id", ""),
        today=datetime.now(UTC).date().isoformat(),
    )


def _focus(line: str) -> dict[str, str]:
    """``kpi qa_score``, ``rule empathy`` or ``item 2.0 default``."""
    parts = line.split()
    if len(parts) < 2 or parts[0] not in ("kpi", "rule", "item"):
        raise InvalidInput(
            f"Write each focus as 'kpi NAME', 'rule ID' or 'item KEY RULESET', not {line!r}."
        )
    focus = {parts[0]: parts[1]}
    if len(parts) > 2:
        focus["ruleset"] = parts[2]
    return focus


@router.post("/coaching/sessions")
async def create_session(request: Request, who: Coach) -> Response:
    form = await form_of(request, who)
    focus = [_focus(line) for line in str(form.get("focus") or "").splitlines() if line.strip()]
    clips = []
    for raw in form.getlist("clip"):
        call_id, _, span = str(raw).partition("@")
        start, _, end = span.partition("-")
        clips.append(sessions.ClipRef(call_id, float(start), float(end)))
    goals = []
    target = str(form.get("goal_target") or "").strip()
    if target and focus:
        due = str(form.get("goal_due") or "")
        goals.append(
            sessions.Goal(focus[0], float(target), date.fromisoformat(due) if due else None)
        )
    held_on = str(form.get("held_on") or "").strip()
    held_at = None
    if held_on:
        try:
            day = date.fromisoformat(held_on)
        except ValueError:
            raise InvalidInput("'Held on' must be a date.", details={"field": "held_on"}) from None
        if day > datetime.now(UTC).date():
            raise InvalidInput(
                "A session is recorded once it is held: 'Held on' is in the future.",
                details={"field": "held_on"},
            )
        if day < datetime.now(UTC).date():  # today's session is held now
            held_at = datetime.combine(day, time(12), tzinfo=UTC)
    with database(request) as session:
        view = sessions.create(
            session,
            who.principal,
            agent_id=str(form.get("agent_id") or ""),
            held_at=held_at,
            focus=focus,
            clips=clips,
            notes=str(form.get("notes") or "") or None,
            goals=goals,
        )
    return back(f"/coaching/sessions/{view.id}", "Session recorded.")


@router.get("/coaching/sessions/{session_id}")
def session_page(session_id: int, request: Request, who: CoachingReader) -> Response:
    with database(request) as session:
        view = sessions.get(session, who.principal, session_id, settings_of(request))
    figures = [charts.before_after(i) for i in view.impact or []]
    return render(request, "session.html", who, s=view, figures=figures)


@router.post("/coaching/sessions/{session_id}/acknowledge")
async def acknowledge_session(session_id: int, request: Request, who: CoachedAgent) -> Response:
    await form_of(request, who)
    with database(request) as session:
        sessions.acknowledge(session, who.principal, session_id)
    return back(f"/coaching/sessions/{session_id}", "Acknowledged.")


def clip_param(example: Any) -> str:
    return urlencode(
        {
            "clip": f"{example.call_id}@{example.start:g}-{example.end:g}",
            "agent_id": example.agent_id,
        }
    )
