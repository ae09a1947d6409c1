"""Coaching sessions: a coach and an agent, what they worked on, the clips they used, notes and
goals; the agent acknowledges. Reading a session measures its impact (:mod:`.impact`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from speechqa import access
from speechqa.access import Action
from speechqa.apikeys import Principal
from speechqa.calls import repository
from speechqa.coaching.impact import Focus, FocusImpact, measure
from speechqa.coaching.library import clip_url
from speechqa.errors import Conflict, Forbidden, InvalidInput, NotFound
from speechqa.settings import Settings
from speechqa.storage.tables import Agent, CoachingSession, utcnow
from speechqa.webhooks import outbox

MAX_FOCUS = 20
MAX_CLIPS = 50
MAX_NOTES = 20_000
MAX_CLIP_S = 600.0


@dataclass(frozen=True)
class ClipRef:
    call_id: str
    start: float
    end: float
    speaker: str | None = None
    text: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Goal:
    focus: dict[str, Any]
    target: float
    due: date | None = None


@dataclass(frozen=True)
class GoalProgress:
    focus: dict[str, Any]
    target: float
    due: date | None
    current: float | None
    """The focus value over the calls since the session."""
    met: bool | None


@dataclass(frozen=True)
class SessionClipView:
    """A clip used in a session, with the words said in it."""

    call_id: str
    start: float
    end: float
    speaker: str | None
    text: str | None
    note: str | None
    audio_url: str
    """Plays just this span (a WAV clip)."""


@dataclass(frozen=True)
class CoachingSessionView:
    id: int
    agent_id: str
    team: str | None
    coach: str
    held_at: datetime
    focus: list[dict[str, Any]]
    clips: list[SessionClipView]
    notes: str | None
    goals: list[GoalProgress]
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    impact: list[FocusImpact] | None
    """Before/after per focus; only when one session is read."""


def create(
    session: Session,
    principal: Principal,
    *,
    agent_id: str,
    focus: list[dict[str, Any]],
    held_at: datetime | None = None,
    clips: list[ClipRef] | None = None,
    notes: str | None = None,
    goals: list[Goal] | None = None,
) -> CoachingSessionView:
    """Record a session; announces ``coaching.session.created`` to webhooks."""
    access.require(principal, Action.COACH)
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise NotFound(f"No agent with id {agent_id!r}.")
    access.check_agent(principal, agent.id, agent.team)
    if not 1 <= len(focus) <= MAX_FOCUS:
        raise InvalidInput(f"Give 1 to {MAX_FOCUS} focus entries.", details={"field": "focus"})
    parsed = [Focus.parse(session, raw) for raw in focus]
    if len(clips or []) > MAX_CLIPS:
        raise InvalidInput(f"At most {MAX_CLIPS} clips.", details={"field": "clips"})
    checked = [_clip(session, principal, clip) for clip in clips or []]
    if notes is not None and len(notes) > MAX_NOTES:
        raise InvalidInput(f"Notes are at most {MAX_NOTES} characters.")
    goal_rows = []
    for goal in goals or []:
        goal_focus = Focus.parse(session, goal.focus).as_dict()
        if goal_focus not in [f.as_dict() for f in parsed]:
            raise InvalidInput(
                "A goal's focus must be one of the session's focus entries.",
                details={"goal": goal_focus},
            )
        goal_rows.append(
            {
                "focus": goal_focus,
                "target": goal.target,
                "due": goal.due.isoformat() if goal.due else None,
            }
        )
    held = held_at or utcnow()
    held = held if held.tzinfo else held.replace(tzinfo=UTC)
    row = CoachingSession(
        agent_id=agent.id,
        team=agent.team,
        coach=principal.who,
        held_at=held,
        focus=[f.as_dict() for f in parsed],
        clips=checked,
        notes=notes,
        goals=goal_rows,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    outbox.emit(
        session,
        "coaching.session.created",
        {
            "session_id": row.id,
            "agent_id": row.agent_id,
            "team": row.team,
            "coach": row.coach,
            "held_at": held.isoformat(),
            "focus": row.focus,
            "url": f"/v1/coaching/sessions/{row.id}",
        },
    )
    return _view(row, None)


def _clip(session: Session, principal: Principal, clip: ClipRef) -> dict[str, Any]:
    call = repository.get_call(session, clip.call_id)
    access.check_call(principal, call)
    if clip.start < 0 or clip.end <= clip.start or clip.end - clip.start > MAX_CLIP_S:
        raise InvalidInput(
            f"A clip runs forward, from 0 s, for at most {MAX_CLIP_S:g} s.",
            details={"clip": clip.call_id},
        )
    text = clip.text
    if text is None:  # the words said in the span, from the transcript
        text = repository.said_between(session, call.id, clip.start, clip.end)
    return {
        "call_id": call.id,
        "start": clip.start,
        "end": clip.end,
        "speaker": clip.speaker,
        "text": text,
        "note": clip.note,
    }


def get(
    session: Session,
    principal: Principal,
    coaching_id: int,
    settings: Settings,
    *,
    before_days: int | None = None,
    after_days: int | None = None,
    now: datetime | None = None,
) -> CoachingSessionView:
    """One session with its impact on each focus."""
    row = _visible(session, principal, coaching_id)
    impact = measure(
        session,
        agent_id=row.agent_id,
        team=row.team,
        held_at=row.held_at,
        focus=[Focus.parse(session, raw) for raw in row.focus],
        before_days=before_days or settings.coaching_window_days,
        after_days=after_days or settings.coaching_window_days,
        min_calls=settings.coaching_min_calls,
        now=now,
    )
    return _view(row, impact)


def list_sessions(
    session: Session, principal: Principal, *, agent_id: str | None = None, limit: int = 50
) -> list[CoachingSessionView]:
    """Sessions the principal may see, newest first (an agent sees their own)."""
    access.require(principal, Action.READ_COACHING)
    query = select(CoachingSession).order_by(
        CoachingSession.held_at.desc(), CoachingSession.id.desc()
    )
    query = query.where(access.coaching_sessions(principal))
    if agent_id is not None:
        query = query.where(CoachingSession.agent_id == agent_id)
    return [_view(row, None) for row in session.scalars(query.limit(limit))]


def acknowledge(session: Session, principal: Principal, coaching_id: int) -> CoachingSessionView:
    """The agent confirms the session took place and they read its notes and goals."""
    access.require(principal, Action.ACKNOWLEDGE_COACHING)
    row = _visible(session, principal, coaching_id)
    if principal.agent_id != row.agent_id:
        raise Forbidden("Only the coached agent acknowledges a session.")
    if row.acknowledged_at is not None:
        raise Conflict("The session is already acknowledged.")
    row.acknowledged_at = utcnow()
    row.acknowledged_by = principal.who
    return _view(row, None)


def _visible(session: Session, principal: Principal, coaching_id: int) -> CoachingSession:
    access.require(principal, Action.READ_COACHING)
    row = session.get(CoachingSession, coaching_id)
    if row is None or not access.sees_coaching_session(principal, row):
        raise NotFound(f"No coaching session {coaching_id}.")
    return row


def _view(row: CoachingSession, impact: list[FocusImpact] | None) -> CoachingSessionView:
    progress = []
    for goal in row.goals:
        current = None
        if impact is not None:
            found = next((i for i in impact if i.focus == goal["focus"]), None)
            current = found.agent.after.value if found else None
        met = None
        if current is not None and impact is not None:
            better = next(i.better for i in impact if i.focus == goal["focus"])
            met = current >= goal["target"] if better == "higher" else current <= goal["target"]
        due = date.fromisoformat(goal["due"]) if goal.get("due") else None
        progress.append(GoalProgress(goal["focus"], goal["target"], due, current, met))
    clips = [
        SessionClipView(
            c["call_id"],
            c["start"],
            c["end"],
            c.get("speaker"),
            c.get("text"),
            c.get("note"),
            clip_url(c["call_id"], c["start"], c["end"]),
        )
        for c in row.clips
    ]
    return CoachingSessionView(
        row.id,
        row.agent_id,
        row.team,
        row.coach,
        row.held_at,
        list(row.focus),
        clips,
        row.notes,
        progress,
        row.created_at,
        row.acknowledged_at,
        row.acknowledged_by,
        impact,
    )
