"""A coaching session's impact on sample data with known before/after values: the change, its
interval, the team beside it, goals, and "not enough calls" when there are too few."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from speechqa.apikeys import Principal, Scope
from speechqa.coaching import sessions
from speechqa.errors import Forbidden, InvalidInput, NotFound
from speechqa.storage.database import session_scope
from speechqa.storage.tables import Agent, Call, CallStats, CallStatus

HELD = datetime(2026, 10, 1, 12, tzinfo=UTC)
NOW = HELD + timedelta(days=40)
COACH = Principal(1, "coach", frozenset({Scope.COACH, Scope.REVIEW}), user="carla")


def _calls(session, agent, team, day_offsets, qa, *, rule_hits=0, fails=0):
    """One call per day offset from HELD; ``qa`` alternates +-2 around its value; the first
    ``rule_hits`` calls hit 'empathy', the first ``fails`` are critical fails."""
    if session.get(Agent, agent) is None:
        session.add(Agent(id=agent, team=team))
        session.flush()
    for n, day in enumerate(day_offsets):
        call_id = uuid.uuid4().hex
        at = HELD + timedelta(days=day, hours=1)
        session.add(Call(id=call_id, agent_id=agent, team=team, started_at=at, audio_path="-",
                         audio_sha256="-", audio_bytes=0, status=CallStatus.DONE, tags=[],
                         extra={}))  # fmt: skip
        session.flush()
        session.add(CallStats(call_id=call_id, agent_id=agent, team=team, at=at,
                              values={"qa_score": qa + (2 if n % 2 else -2)},
                              rules_hit=["empathy"] if n < rule_hits else [],
                              critical_fail=n < fails, score_source="automatic"))  # fmt: skip


BEFORE = [-d for d in range(2, 26, 2)]  # 12 calls in the 30 days before
AFTER = list(range(1, 25, 2))  # 12 calls in the 30 days after


@pytest.fixture
def coached(settings):
    with session_scope(settings) as session:
        _calls(session, "ann", "north", BEFORE, 60, rule_hits=3, fails=4)
        _calls(session, "ann", "north", AFTER, 80, rule_hits=9, fails=1)
        _calls(session, "bob", "north", BEFORE, 70)
        _calls(session, "bob", "north", AFTER, 72)
        _calls(session, "old", "north", [-90, -60], 10)  # outside both windows
        view = sessions.create(
            session, COACH, agent_id="ann", held_at=HELD,
            focus=[{"kpi": "qa_score"}, {"rule": "empathy"}, {"kpi": "critical_fail"}],
            notes="Work on empathy after complaints.",
            goals=[sessions.Goal({"kpi": "qa_score"}, 75.0),
                   sessions.Goal({"rule": "empathy"}, 0.9)],
        )  # fmt: skip
    return view.id


def _impact(settings, session_id, principal=COACH, **kw):
    with session_scope(settings) as session:
        return sessions.get(session, principal, session_id, settings, now=NOW, **kw)


def test_known_before_and_after_values_come_out_right(settings, coached):
    view = _impact(settings, coached)
    qa, empathy, fails = view.impact
    assert qa.focus == {"kpi": "qa_score"} and qa.better == "higher"
    assert (qa.agent.before.calls, qa.agent.after.calls) == (12, 12)
    assert (qa.agent.before.value, qa.agent.after.value, qa.agent.change) == (60.0, 80.0, 20.0)
    lo, hi = qa.agent.interval
    assert 18.0 < lo < 20.0 < hi < 22.0  # +-2 around each mean: a tight interval
    assert qa.agent.verdict == "rose"
    assert qa.agent.before.start == HELD - timedelta(days=30)
    assert qa.agent.after.end == HELD + timedelta(days=30)
    # The rest of the team (bob) moved +2 over the same windows: +18 is ann's own.
    assert (qa.team.before.value, qa.team.after.value, qa.team.change) == (70.0, 72.0, 2.0)
    assert qa.net == 18.0
    assert "an improvement" in qa.statement and "so +18 is the agent's own" in qa.statement

    assert (empathy.agent.before.value, empathy.agent.after.value) == (0.25, 0.75)
    assert empathy.agent.verdict == "rose"
    assert fails.better == "lower" and fails.agent.change == pytest.approx(-3 / 12, abs=1e-4)
    # 4 fails in 12 calls to 1 in 12 could be chance: the interval (-0.58, +0.08) holds 0.
    assert fails.agent.verdict == "no clear change" and fails.agent.interval[1] > 0
    assert "within what chance alone would give" in fails.statement

    goals = {g.target: g for g in view.goals}
    assert goals[75.0].current == 80.0 and goals[75.0].met is True
    assert goals[0.9].current == 0.75 and goals[0.9].met is False


def test_the_same_data_gives_the_same_interval(settings, coached):
    assert _impact(settings, coached).impact[0].agent.interval == (
        _impact(settings, coached).impact[0].agent.interval
    )


def test_too_few_calls_say_so_instead_of_a_number(settings, coached):
    view = _impact(settings, coached, before_days=5, after_days=5)
    qa = view.impact[0]
    assert (qa.agent.before.calls, qa.agent.after.calls) == (2, 2)  # days -4, -2; 1, 3
    assert qa.agent.change is None and qa.agent.interval is None and qa.net is None
    assert qa.agent.verdict == "not enough calls"
    assert qa.statement.startswith("QA score: not enough calls to tell (2 before, 2 after;")
    # The sides still show what there is.
    assert qa.agent.before.value == 60.0


def test_no_change_is_not_called_an_improvement(settings):
    with session_scope(settings) as session:
        _calls(session, "cid", "west", BEFORE, 70)
        _calls(session, "cid", "west", AFTER, 70.5)
        view = sessions.create(session, COACH, agent_id="cid", held_at=HELD,
                               focus=[{"kpi": "qa_score"}])  # fmt: skip
    (qa,) = _impact(settings, view.id).impact
    assert qa.agent.verdict == "no clear change" and "chance alone" in qa.statement
    assert qa.team is not None and qa.team.verdict == "not enough calls"  # nobody else in west


def test_sessions_are_seen_by_their_agent_and_team_only(settings, coached):
    ann = Principal(5, "ann", frozenset({Scope.AGENT}), user="ann", agent_id="ann")
    bob = Principal(6, "bob", frozenset({Scope.AGENT}), user="bob", agent_id="bob")
    south = Principal(7, "sc", frozenset({Scope.COACH, Scope.REVIEW}), teams=frozenset({"south"}))
    assert _impact(settings, coached, ann).agent_id == "ann"
    for outsider in (bob, south):
        with pytest.raises(NotFound):
            _impact(settings, coached, outsider)
    with session_scope(settings) as session:
        with pytest.raises(Forbidden):
            sessions.acknowledge(session, COACH, coached)
        acked = sessions.acknowledge(session, ann, coached)
        assert acked.acknowledged_by == "ann" and acked.acknowledged_at is not None
        assert [s.id for s in sessions.list_sessions(session, ann)] == [coached]
        assert sessions.list_sessions(session, bob) == []


@pytest.mark.parametrize(
    ("focus", "message"),
    [
        ([{"rule": "no_such_rule"}], "No rule 'no_such_rule'"),
        ([{"item": "9.9"}], "No item '9.9'"),
        ([{"kpi": "qa_score", "rule": "empathy"}], "A focus is one of"),
        ([{"rule": "empathy", "ruleset": "nope"}], "No ruleset 'nope'"),
        ([], "1 to 20 focus"),
    ],
)
def test_bad_focus_is_refused(sqlite_settings, focus, message):
    with session_scope(sqlite_settings) as session:
        session.add(Agent(id="ann", team="north"))
        session.flush()
        with pytest.raises(InvalidInput, match=message):
            sessions.create(session, COACH, agent_id="ann", focus=focus)
