"""Each resource's visibility rule as SQL and as a check on one object give the same answer.

A small table: agents of team a, team b and of no team, each with a call, a review of it, a clip
of it and a coaching session; principals unlimited, limited to one team or two, an agent key,
an agent key naming no agent, and an agent limited to a team that is not their own.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from speechqa import access
from speechqa.apikeys import Principal, Scope
from speechqa.errors import NotFound
from speechqa.settings import Settings
from speechqa.storage.database import session_scope
from speechqa.storage.tables import (
    Agent,
    Call,
    CallStatus,
    Clip,
    ClipCollection,
    CoachingSession,
    EvaluationRow,
    Review,
)

AGENTS = {"ag-a": "a", "ag-b": "b", "ag-none": None}
LEAD = frozenset({Scope.LEAD, Scope.COACH, Scope.REVIEW})
PRINCIPALS = {
    "admin": Principal(1, "admin", frozenset(Scope)),
    "lead of a": Principal(2, "lead", LEAD, teams=frozenset({"a"})),
    "lead of a and b": Principal(3, "lead", LEAD, teams=frozenset({"a", "b"})),
    "agent ag-a": Principal(4, "agent", frozenset({Scope.AGENT}), agent_id="ag-a"),
    "agent key of no agent": Principal(5, "agent", frozenset({Scope.AGENT})),
    "agent ag-a in team b": Principal(
        6, "agent", frozenset({Scope.AGENT}), teams=frozenset({"b"}), agent_id="ag-a"
    ),
    "reviewer of no team": Principal(7, "reviewer", frozenset({Scope.REVIEW})),
}
SEES = {
    "admin": {"ag-a", "ag-b", "ag-none"},
    "lead of a": {"ag-a"},
    "lead of a and b": {"ag-a", "ag-b"},
    "agent ag-a": {"ag-a"},
    "agent key of no agent": set(),
    "agent ag-a in team b": set(),
    "reviewer of no team": {"ag-a", "ag-b", "ag-none"},
}
"""Whose work each principal sees (the rule the API's role table tests route by route)."""


@pytest.fixture
def world(settings: Settings) -> Settings:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    with session_scope(settings) as session:
        collection = ClipCollection(name="all", created_by="coach")
        session.add(collection)
        for agent_id, team in AGENTS.items():
            session.add(Agent(id=agent_id, team=team))
            call = Call(
                id=f"call-{agent_id}",
                agent_id=agent_id,
                team=team,
                audio_path="-",
                audio_sha256="-",
                audio_bytes=0,
                status=CallStatus.DONE,
                tags=[],
                extra={},
            )
            session.add(call)
            session.flush()
            evaluation = EvaluationRow(call_id=call.id, ruleset="default", version=1, result={})
            session.add(evaluation)
            session.flush()
            session.add(Review(call_id=call.id, evaluation_id=evaluation.id, reviewer="r"))
            session.add(
                Clip(collection_id=collection.id, call_id=call.id, start=0, end=1, added_by="coach")
            )
            session.add(
                CoachingSession(agent_id=agent_id, team=team, coach="coach", held_at=at, focus=[])
            )
    return settings


@pytest.mark.parametrize("name", PRINCIPALS)
def test_sql_rule_and_object_check_agree(world: Settings, name: str) -> None:
    principal = PRINCIPALS[name]
    with session_scope(world) as session:
        calls = session.scalars(select(Call)).all()
        assert len(calls) == len(AGENTS)
        in_sql = set(session.scalars(select(Call.agent_id).where(access.calls(principal))))
        one_by_one = {c.agent_id for c in calls if access.sees_call(principal, c)}
        assert in_sql == one_by_one == SEES[name]

        reviews_sql = set(
            session.scalars(
                select(Call.agent_id)
                .join(Review, Review.call_id == Call.id)
                .where(access.reviews(principal))
            )
        )
        reviews_checked = set()
        for review in session.scalars(select(Review)):
            try:
                access.check_review(session, principal, review)
            except NotFound:
                continue
            reviews_checked.add(session.get_one(Call, review.call_id).agent_id)
        assert reviews_sql == reviews_checked == SEES[name]

        clips_sql = set(
            session.scalars(
                select(Call.agent_id)
                .join(Clip, Clip.call_id == Call.id)
                .where(access.clips(principal))
            )
        )
        clips_checked = {
            session.get_one(Call, clip.call_id).agent_id
            for clip in session.scalars(select(Clip))
            if access.sees_call(principal, session.get_one(Call, clip.call_id))
        }
        assert clips_sql == clips_checked == SEES[name]

        coached_sql = set(
            session.scalars(
                select(CoachingSession.agent_id).where(access.coaching_sessions(principal))
            )
        )
        coached_checked = {
            row.agent_id
            for row in session.scalars(select(CoachingSession))
            if access.sees_coaching_session(principal, row)
        }
        assert coached_sql == coached_checked == SEES[name]

        agents = {
            a.id
            for a in session.scalars(select(Agent))
            if access.sees_agent(principal, a.id, a.team)
        }
        assert agents == SEES[name]
