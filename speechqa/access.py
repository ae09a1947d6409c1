"""Who may do what, and see which calls, agents and teams: one decision for every edge.

Both edges (the API's dependencies and routes, the web app's pages and forms) and the core
services ask here, for every change and every query of what someone may see, so no edge can
skip a check and no query writes its own:

- what a principal may DO: each :class:`Action` needs one of a few scopes (:data:`NEEDS`);
  a principal without them gets :class:`Forbidden` (403), whatever object it names;
- what it may SEE: an agent sees only their own calls, a user limited to teams only those
  teams' calls, agents, reports, queues and calibration sessions. Something a caller may not
  see is answered as unknown (:class:`NotFound`, 404), never as forbidden, so ids of other
  teams' objects do not leak. The rule is one (:class:`Sight`); each resource has it as a SQL
  condition for queries (:func:`calls`, :func:`reviews`, :func:`clips`,
  :func:`coaching_sessions`) and as a check on one object (:func:`sees_call`,
  :func:`check_review`, :func:`sees_coaching_session`, :func:`sees_agent`), so a list and a
  lookup never disagree.

The scope is checked before the object, so a role that may not act at all gets 403 even on
another team's object.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, false, select, true
from sqlalchemy.orm import Session

from speechqa.apikeys import Principal, Scope
from speechqa.errors import Forbidden, InvalidInput, NotFound
from speechqa.storage.tables import Agent, Call, Clip, CoachingSession, Review


class Action(enum.StrEnum):
    """Everything a caller may ask to do; the value says it in words (for 403 messages)."""

    SUBMIT_CALLS = "submit calls and read their analysis status"
    USE_WEB = "sign in to the web app"
    READ_CALLS = "read calls, their transcripts, audio, reviews and the agent's KPIs"
    READ_ORIGINAL_AUDIO = "play the unredacted recording"
    REVIEW_CALLS = "start, answer and submit reviews"
    TAG_CALLS = "tag and untag calls"
    ANSWER_REVIEW = "acknowledge or dispute a review of one's own call"
    RESOLVE_DISPUTES = "settle disputes"
    REEVALUATE_REVIEWS = "re-evaluate a call another reviewer's submitted review counts for"
    READ_TEAM_REPORTS = "read team KPIs, the leaderboard, the journal and the reports"
    WORK_QUEUE = "read review queues and one's own queue"
    MANAGE_QUEUES = "create and sample review queues"
    CALIBRATE = "take part in calibration sessions"
    MANAGE_CALIBRATIONS = "create calibration sessions and read their reports"
    READ_RULESETS = "read and validate rulesets"
    MANAGE_RULESETS = "store ruleset versions and re-score calls"
    COACH = "find examples, keep clips in collections and record coaching sessions"
    READ_COACHING = "read coaching sessions"
    ACKNOWLEDGE_COACHING = "acknowledge one's own coaching session"
    ADMINISTER = "manage users, keys, webhooks, jobs and delete calls"


NEEDS: dict[Action, frozenset[Scope]] = {
    Action.SUBMIT_CALLS: frozenset({Scope.INGEST}),
    # The web app serves people: an ingest key (an upstream system's) never gets a session.
    Action.USE_WEB: frozenset({Scope.REVIEW, Scope.AGENT}),
    Action.READ_CALLS: frozenset({Scope.REVIEW, Scope.AGENT}),
    Action.READ_ORIGINAL_AUDIO: frozenset({Scope.ADMIN}),
    Action.REVIEW_CALLS: frozenset({Scope.REVIEW, Scope.AGENT}),  # an agent's is a self-review
    Action.TAG_CALLS: frozenset({Scope.REVIEW}),  # not an agent: tags sort the QA team's work
    Action.ANSWER_REVIEW: frozenset({Scope.AGENT}),
    Action.RESOLVE_DISPUTES: frozenset({Scope.LEAD}),
    Action.REEVALUATE_REVIEWS: frozenset({Scope.LEAD}),  # the reviewer themself always may
    Action.READ_TEAM_REPORTS: frozenset({Scope.REVIEW}),
    Action.WORK_QUEUE: frozenset({Scope.REVIEW}),
    Action.MANAGE_QUEUES: frozenset({Scope.LEAD}),
    Action.CALIBRATE: frozenset({Scope.REVIEW}),
    Action.MANAGE_CALIBRATIONS: frozenset({Scope.LEAD}),
    Action.READ_RULESETS: frozenset({Scope.REVIEW}),
    Action.MANAGE_RULESETS: frozenset({Scope.LEAD}),
    Action.COACH: frozenset({Scope.COACH}),
    Action.READ_COACHING: frozenset({Scope.COACH, Scope.AGENT}),
    Action.ACKNOWLEDGE_COACHING: frozenset({Scope.AGENT}),
    Action.ADMINISTER: frozenset({Scope.ADMIN}),
}
"""The scopes that allow each action (any one of them). Scopes imply others
(``apikeys._IMPLIES``: admin all, lead coach and review, coach review)."""


def may(principal: Principal, action: Action) -> bool:
    return bool(principal.scopes & NEEDS[action])


def require_each(people: Mapping[str, Principal], action: Action, cannot: str) -> None:
    """InvalidInput naming the first of ``people`` (the users a queue or a calibration session
    names) whose role may not do ``action``: "NAME {cannot} (their role may not ...)"."""
    for name, principal in people.items():
        if not may(principal, action):
            raise InvalidInput(
                f"{name} {cannot} (their role may not {action.value}).", details={"reviewer": name}
            )


def require(principal: Principal, action: Action) -> None:
    """Forbidden unless ``principal`` may do ``action``."""
    if not may(principal, action):
        names = " or ".join(f"'{s}'" for s in sorted(NEEDS[action]))
        raise Forbidden(f"This API key lacks the {names} scope: it may not {action.value}.")


# -- what a principal may see: one rule, evaluated in SQL and on one object alike ---------------


@dataclass(frozen=True)
class Sight:
    """What of the agents' work a principal sees: the one visibility rule.

    Every resource owned by an agent in a team (calls, agents, coaching sessions) is seen by
    this rule on its agent and team; reviews and clips are seen with their call. :meth:`where`
    is the rule as SQL, :meth:`admits` the same rule on one object's values (a test holds the
    two to the same table of principals and objects).
    """

    agent_id: str | None = None
    """Only this agent's (None: any agent's)."""
    teams: frozenset[str] | None = None
    """Only these teams' (None: every team's, and what belongs to no team)."""
    blind: bool = False
    """Nothing at all (an agent key that names no agent)."""

    @property
    def everything(self) -> bool:
        return not self.blind and self.agent_id is None and self.teams is None

    def where(
        self, agent_id: ColumnElement[Any] | Any, team: ColumnElement[Any] | Any
    ) -> ColumnElement[bool]:
        """The rule as SQL on an agent-id column and a team column."""
        if self.blind:
            return false()
        conditions: list[ColumnElement[bool]] = []
        if self.agent_id is not None:
            conditions.append(agent_id == self.agent_id)
        if self.teams is not None:
            conditions.append(team.in_(sorted(self.teams)))
        return and_(true(), *conditions)

    def admits(self, agent_id: str | None, team: str | None) -> bool:
        """The rule on one object's agent id and team."""
        if self.blind:
            return False
        if self.agent_id is not None and agent_id != self.agent_id:
            return False
        return self.teams is None or team in self.teams


def sight(principal: Principal) -> Sight:
    """What ``principal`` sees: an agent key its agent's work only (nothing when it names no
    agent), a user limited to teams those teams' work."""
    if principal.agent_id is not None or (
        Scope.AGENT in principal.scopes and Scope.REVIEW not in principal.scopes
    ):
        if principal.agent_id is None:
            return Sight(blind=True)
        return Sight(agent_id=principal.agent_id, teams=principal.teams)
    return Sight(teams=principal.teams)


class Owned(Protocol):
    """Anything an agent of a team owns: a call, a row of one, a coaching session."""

    @property
    def agent_id(self) -> str: ...

    @property
    def team(self) -> str | None: ...


def calls(principal: Principal) -> ColumnElement[bool]:
    """The calls ``principal`` may see, as a condition on :class:`Call`."""
    return sight(principal).where(Call.agent_id, Call.team)


def sees_call(principal: Principal, call: Owned) -> bool:
    """Whether ``principal`` may see ``call`` (a :class:`Call` or a row with its agent and
    team): :func:`calls` on one call."""
    return sight(principal).admits(call.agent_id, call.team)


def reviews(principal: Principal) -> ColumnElement[bool]:
    """The reviews ``principal`` may see, as a condition on :class:`Review`: those of calls they
    see (a calibration review's answers are further hidden until one's own is in, in
    :mod:`speechqa.reviews.workflow`). One review: :func:`check_review`."""
    return _of_seen_calls(principal, Review.call_id)


def clips(principal: Principal) -> ColumnElement[bool]:
    """The clips of the coaches' collections ``principal`` may see, as a condition on
    :class:`Clip`: those of calls they see (every coach sees every collection). One clip:
    :func:`check_call` on its call."""
    return _of_seen_calls(principal, Clip.call_id)


def coaching_sessions(principal: Principal) -> ColumnElement[bool]:
    """The coaching sessions ``principal`` may see, as a condition on :class:`CoachingSession`:
    by the session's agent and team (an agent sees their own)."""
    return sight(principal).where(CoachingSession.agent_id, CoachingSession.team)


def sees_coaching_session(principal: Principal, row: CoachingSession) -> bool:
    """:func:`coaching_sessions` on one session."""
    return sight(principal).admits(row.agent_id, row.team)


def _of_seen_calls(principal: Principal, call_id: ColumnElement[Any] | Any) -> ColumnElement[bool]:
    seen = sight(principal)
    if seen.everything:
        return true()
    return call_id.in_(select(Call.id).where(seen.where(Call.agent_id, Call.team)))


def check_call(principal: Principal, call: Call) -> None:
    """NotFound unless ``principal`` may see ``call``."""
    if not sees_call(principal, call):
        raise NotFound(f"No call with id {call.id!r}.")


def call_for(session: Session, principal: Principal, call_id: str) -> Call:
    """The call ``call_id`` if ``principal`` may see it, else NotFound."""
    call = session.get(Call, call_id)
    if call is None:
        raise NotFound(f"No call with id {call_id!r}.")
    check_call(principal, call)
    return call


def check_review(session: Session, principal: Principal, review: Review) -> None:
    """NotFound (as an unknown review) unless ``principal`` may see ``review``'s call."""
    call = session.get(Call, review.call_id)
    if call is None or not sees_call(principal, call):
        raise NotFound(f"No review {review.id}.")


def check_calls(session: Session, principal: Principal, call_ids: Iterable[str]) -> None:
    """NotFound naming the first of ``call_ids`` that does not exist or ``principal`` may not
    see."""
    wanted = list(dict.fromkeys(call_ids))
    found = {
        row.id: row
        for row in session.execute(
            select(Call.id, Call.agent_id, Call.team).where(Call.id.in_(wanted))
        )
    }
    for call_id in wanted:
        row = found.get(call_id)
        if row is None or not sees_call(principal, row):
            raise NotFound(f"No call with id {call_id!r}.")


def may_see_calls(session: Session, principal: Principal, call_ids: Iterable[str]) -> bool:
    """Whether every one of ``call_ids`` exists and ``principal`` sees it (a calibration
    session is seen by those who see every call in it)."""
    try:
        check_calls(session, principal, call_ids)
    except NotFound:
        return False
    return True


def sees_agent(principal: Principal, agent_id: str, team: str | None) -> bool:
    """Whether ``principal`` may see the agent ``agent_id`` of ``team`` (and their KPIs)."""
    return sight(principal).admits(agent_id, team)


def check_agent(principal: Principal, agent_id: str, team: str | None) -> None:
    if not sees_agent(principal, agent_id, team):
        raise NotFound(f"No agent with id {agent_id!r}.")


def agent_for(session: Session, principal: Principal, agent_id: str) -> Agent | None:
    """NotFound unless ``principal`` may see ``agent_id``; the stored agent (None when an
    unlimited caller names an agent with no calls)."""
    agent = session.get(Agent, agent_id)
    check_agent(principal, agent_id, agent.team if agent is not None else None)
    return agent


def sees_team(principal: Principal, team: str) -> bool:
    """Whether ``principal`` sees the whole of team ``team`` (agents see no team)."""
    seen = sight(principal)
    return not seen.blind and seen.agent_id is None and (seen.teams is None or team in seen.teams)


def see_team(principal: Principal, team: str) -> None:
    """NotFound unless ``principal`` sees the team ``team`` (agents see no team)."""
    if not sees_team(principal, team):
        raise NotFound(f"No team {team!r}.")


def check_team(principal: Principal, team: str | None) -> str | None:
    """The team a team-wide report covers: the one asked for if visible; a limited caller with
    one team gets that team when none is asked for."""
    seen = sight(principal)
    if seen.blind or seen.agent_id is not None:
        raise NotFound("Team reports are not shown to agents.")
    if seen.teams is None:
        return team
    if team is None:
        if len(seen.teams) == 1:
            return next(iter(seen.teams))
        raise InvalidInput(
            f"Name one of your teams with 'team': {', '.join(sorted(seen.teams))}.",
            details={"parameter": "team"},
        )
    see_team(principal, team)
    return team


def may_see_teams(principal: Principal, teams: Iterable[str] | None) -> bool:
    """Whether ``principal`` sees all of ``teams`` (None: every team, which only an unlimited
    caller sees): a review queue over ``teams`` is seen so."""
    if principal.teams is None:
        return True
    return teams is not None and set(teams) <= principal.teams
