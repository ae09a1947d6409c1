"""Which calls, agents and teams a caller may see: one place, used by every route and page.

An agent sees only their own calls; a user limited to teams sees only those teams' calls,
agents and reports. Something a caller may not see is answered as unknown (NotFound), never
as forbidden, so ids of other teams' calls do not leak.
"""

from __future__ import annotations

from dataclasses import replace

from speechqa.apikeys import Principal
from speechqa.calls.listing import CallFilters
from speechqa.errors import InvalidInput, NotFound
from speechqa.storage.tables import Call


def limit(principal: Principal, filters: CallFilters) -> CallFilters:
    """``filters`` narrowed to what ``principal`` may see."""
    if principal.agent_id is not None:
        if filters.agent_id not in (None, principal.agent_id):
            return replace(filters, agent_id=principal.agent_id, nothing=True)
        filters = replace(filters, agent_id=principal.agent_id)
    if principal.teams is not None:
        if filters.team is not None and filters.team not in principal.teams:
            return replace(filters, nothing=True)
        filters = replace(filters, teams=principal.teams)
    return filters


def check_call(principal: Principal, call: Call) -> None:
    """NotFound unless ``principal`` may see ``call``."""
    if not may_see(principal, agent_id=call.agent_id, team=call.team):
        raise NotFound(f"No call with id {call.id!r}.")


def may_see(principal: Principal, *, agent_id: str | None, team: str | None) -> bool:
    if principal.agent_id is not None and agent_id != principal.agent_id:
        return False
    return principal.teams is None or team in principal.teams


def check_agent(principal: Principal, agent_id: str, team: str | None) -> None:
    if not may_see(principal, agent_id=agent_id, team=team):
        raise NotFound(f"No agent with id {agent_id!r}.")


def check_team(principal: Principal, team: str | None) -> str | None:
    """The team a team-wide report covers: the one asked for if visible; a limited caller with
    one team gets that team when none is asked for."""
    if principal.agent_id is not None:
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
    if team not in principal.teams:
        raise NotFound(f"No team {team!r}.")
    return team
