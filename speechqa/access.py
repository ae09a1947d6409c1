"""Who may do what, and see which calls, agents and teams: one decision for every edge.

Both edges (the API's dependencies and routes, the web app's pages and forms) and the core
services that change state ask here, so no edge can skip a check:

- what a principal may DO: each :class:`Action` needs one of a few scopes (:data:`NEEDS`);
  a principal without them gets :class:`Forbidden` (403), whatever object it names;
- what it may SEE: an agent sees only their own calls, a user limited to teams only those
  teams' calls, agents, reports, queues and calibration sessions. Something a caller may not
  see is answered as unknown (:class:`NotFound`, 404), never as forbidden, so ids of other
  teams' objects do not leak.

The scope is checked before the object, so a role that may not act at all gets 403 even on
another team's object.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, and_, false, select, true
from sqlalchemy.orm import Session

from speechqa.apikeys import Principal, Scope
from speechqa.calls.listing import CallFilters
from speechqa.errors import Forbidden, InvalidInput, NotFound
from speechqa.storage.tables import Agent, Call


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
            raise InvalidInput(f"{name} {cannot} (their role may not {action.value}).",
                               details={"reviewer": name})  # fmt: skip


def require(principal: Principal, action: Action) -> None:
    """Forbidden unless ``principal`` may do ``action``."""
    if not may(principal, action):
        names = " or ".join(f"'{s}'" for s in sorted(NEEDS[action]))
        raise Forbidden(f"This API key lacks the {names} scope: it may not {action.value}.")


# -- what a principal may see -----------------------------------------------------------------


def _reads_as_agent(principal: Principal) -> bool:
    """An agent key: sees only its agent's calls (none when it names no agent)."""
    return principal.agent_id is not None or (
        Scope.AGENT in principal.scopes and Scope.REVIEW not in principal.scopes
    )


def may_see(principal: Principal, *, agent_id: str | None, team: str | None) -> bool:
    mine = principal.agent_id is not None and agent_id == principal.agent_id
    if _reads_as_agent(principal) and not mine:
        return False
    return principal.teams is None or team in principal.teams


def limit(principal: Principal, filters: CallFilters) -> CallFilters:
    """``filters`` narrowed to what ``principal`` may see."""
    if _reads_as_agent(principal):
        if principal.agent_id is None or filters.agent_id not in (None, principal.agent_id):
            return replace(filters, agent_id=principal.agent_id, nothing=True)
        filters = replace(filters, agent_id=principal.agent_id)
    if principal.teams is not None:
        if filters.team is not None and filters.team not in principal.teams:
            return replace(filters, nothing=True)
        filters = replace(filters, teams=principal.teams)
    return filters


def visible(
    principal: Principal, *, agent_id: ColumnElement[Any] | Any, team: ColumnElement[Any] | Any
) -> ColumnElement[bool]:
    """A SQL condition on an agent-id column and a team column: the rows ``principal`` may
    see (the same rule as :func:`may_see`)."""
    conditions: list[ColumnElement[bool]] = []
    if _reads_as_agent(principal):
        if principal.agent_id is None:
            return false()
        conditions.append(agent_id == principal.agent_id)
    if principal.teams is not None:
        conditions.append(team.in_(sorted(principal.teams)))
    return and_(true(), *conditions)


def check_call(principal: Principal, call: Call) -> None:
    """NotFound unless ``principal`` may see ``call``."""
    if not may_see(principal, agent_id=call.agent_id, team=call.team):
        raise NotFound(f"No call with id {call.id!r}.")


def call_for(session: Session, principal: Principal, call_id: str) -> Call:
    """The call ``call_id`` if ``principal`` may see it, else NotFound."""
    call = session.get(Call, call_id)
    if call is None:
        raise NotFound(f"No call with id {call_id!r}.")
    check_call(principal, call)
    return call


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
        if row is None or not may_see(principal, agent_id=row.agent_id, team=row.team):
            raise NotFound(f"No call with id {call_id!r}.")


def may_see_calls(session: Session, principal: Principal, call_ids: Iterable[str]) -> bool:
    try:
        check_calls(session, principal, call_ids)
    except NotFound:
        return False
    return True


def check_agent(principal: Principal, agent_id: str, team: str | None) -> None:
    if not may_see(principal, agent_id=agent_id, team=team):
        raise NotFound(f"No agent with id {agent_id!r}.")


def agent_for(session: Session, principal: Principal, agent_id: str) -> Agent | None:
    """NotFound unless ``principal`` may see ``agent_id``; the stored agent (None when an
    unlimited caller names an agent with no calls)."""
    agent = session.get(Agent, agent_id)
    check_agent(principal, agent_id, agent.team if agent is not None else None)
    return agent


def see_team(principal: Principal, team: str) -> None:
    """NotFound unless ``principal`` sees the team ``team`` (agents see no team)."""
    if _reads_as_agent(principal) or (principal.teams is not None and team not in principal.teams):
        raise NotFound(f"No team {team!r}.")


def check_team(principal: Principal, team: str | None) -> str | None:
    """The team a team-wide report covers: the one asked for if visible; a limited caller with
    one team gets that team when none is asked for."""
    if _reads_as_agent(principal):
        raise NotFound("Team reports are not shown to agents.")
    if principal.teams is None:
        return team
    if team is None:
        if len(principal.teams) == 1:
            return next(iter(principal.teams))
        raise InvalidInput(
            f"Name one of your teams with 'team': {', '.join(sorted(principal.teams))}.",
            details={"parameter": "team"},
        )
    see_team(principal, team)
    return team


def may_see_teams(principal: Principal, teams: Iterable[str] | None) -> bool:
    """Whether ``principal`` sees all of ``teams`` (None: every team, which only an unlimited
    caller sees)."""
    if principal.teams is None:
        return True
    return teams is not None and set(teams) <= principal.teams
