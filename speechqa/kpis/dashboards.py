"""What the KPI dashboards and the journal read, one function each, for the API and the pages.

A page of the KPI journal as rows (:func:`journal_page`) serves the API's ``kpi-journal`` (JSON
or CSV), the pages' journal download and the dashboards' latest entries. An agent's or a team's
dashboard (:func:`agent_dashboard`, :func:`team_dashboard`) is read in one call that also checks
the caller may see it; :func:`visible_agents` lists the agents by team for the teams page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from speechqa import access
from speechqa.apikeys import Principal
from speechqa.kpis import aggregates, reports
from speechqa.storage.tables import Agent, CallStats

LATEST = 50
"""Journal entries a dashboard shows."""


@dataclass(frozen=True)
class JournalQuery:
    """Which journal entries: a period, optionally one agent, team or counter, a page of them
    (``after``: the cursor, the id of the previous page's last entry)."""

    start: datetime
    end: datetime
    agent_id: str | None = None
    team: str | None = None
    counter: str | None = None
    limit: int = 100
    after: int | None = None
    notable: bool = False
    """Without the routine rule hits (see :func:`speechqa.kpis.reports.journal`)."""
    newest_first: bool = False


@dataclass(frozen=True)
class JournalPage:
    rows: list[dict[str, Any]]
    """The entries as the API and the CSV give them (:func:`speechqa.kpis.reports.as_rows`)."""
    next_cursor: int | None
    """Set when the page is full: more entries may follow."""


def journal_page(session: Session, query: JournalQuery) -> JournalPage:
    events = reports.journal(
        session,
        start=query.start,
        end=query.end,
        agent_id=query.agent_id,
        team=query.team,
        counter=query.counter,
        limit=query.limit,
        after=query.after,
        notable=query.notable,
        newest_first=query.newest_first,
    )
    rows = reports.as_rows(events)
    return JournalPage(rows, rows[-1]["id"] if len(rows) == query.limit else None)


@dataclass(frozen=True)
class Span:
    """The period a dashboard shows (``end`` excluded), grouped by ``bucket``, and whether its
    journal lists every entry or only the notable ones."""

    start: datetime
    end: datetime
    bucket: str | None
    every_event: bool = False


@dataclass(frozen=True)
class Dashboard:
    """An agent's or a team's KPIs over a period and what the page shows beside them."""

    kpis: dict[str, Any]
    """:func:`speechqa.kpis.aggregates.agent_kpis` or ``team_kpis``"""
    rows: list[CallStats]
    """The KPI rows of the agent's (or the team's) calls of the period"""
    team_rows: list[CallStats]
    """An agent's team's rows, to set the agent beside (none for an agent's own view)"""
    events: list[dict[str, Any]]
    """The latest journal entries (newest first)"""
    names: dict[str, str]
    """Agent id -> name, for the agents shown that have one"""
    board: list[dict[str, Any]] = field(default_factory=list)
    """A team's leaderboard by QA score"""
    summary: list[dict[str, Any]] | None = None
    """A team's summary report of the period"""


def agent_dashboard(
    session: Session,
    principal: Principal,
    agent_id: str,
    span: Span,
) -> Dashboard:
    """NotFound unless ``principal`` may see the agent."""
    start, end = span.start, span.end
    kpis = aggregates.agent_kpis(session, agent_id, start, end, span.bucket)
    access.check_agent(principal, agent_id, kpis["team"])
    team_rows = []
    if kpis["team"] and principal.agent_id is None:
        team_rows = aggregates.stats_rows(session, team=kpis["team"], start=start, end=end)
    return Dashboard(
        kpis=kpis,
        rows=aggregates.stats_rows(session, agent_id=agent_id, start=start, end=end),
        team_rows=team_rows,
        events=_latest(session, span, agent_id=agent_id),
        names=agent_names(session, [agent_id]),
    )


def team_dashboard(
    session: Session,
    principal: Principal,
    team: str,
    span: Span,
) -> Dashboard:
    """NotFound unless ``principal`` may see the team."""
    start, end = span.start, span.end
    access.check_team(principal, team)
    kpis = aggregates.team_kpis(session, team, start, end, span.bucket)
    rows = aggregates.stats_rows(session, team=team, start=start, end=end)
    return Dashboard(
        kpis=kpis,
        rows=rows,
        team_rows=[],
        events=_latest(session, span, team=team),
        names=agent_names(session, [r.agent_id for r in rows]),
        board=aggregates.leaderboard(session, "qa_score", start, end, team),
        summary=reports.summary_report(session, start=start, end=end, bucket=None, team=team),
    )


def _latest(
    session: Session,
    span: Span,
    *,
    agent_id: str | None = None,
    team: str | None = None,
) -> list[dict[str, Any]]:
    """The newest entries of the period for the agent or team: the notable ones unless
    ``span.every_event``."""
    query = JournalQuery(
        span.start,
        span.end,
        agent_id,
        team,
        limit=LATEST,
        notable=not span.every_event,
        newest_first=True,
    )
    return journal_page(session, query).rows


def agent_names(session: Session, agent_ids: list[str]) -> dict[str, str]:
    """Agent id -> the name upstream sent, for those that have one."""
    if not agent_ids:
        return {}
    found = session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(set(agent_ids))))
    return {agent_id: name for agent_id, name in found if name}


@dataclass(frozen=True)
class AgentEntry:
    id: str
    name: str | None
    team: str | None


def visible_agents(session: Session, principal: Principal) -> dict[str, list[AgentEntry]]:
    """The agents ``principal`` may see, by team ("" for none), in team then id order."""
    found = session.execute(select(Agent.id, Agent.name, Agent.team).order_by(Agent.team, Agent.id))
    teams: dict[str, list[AgentEntry]] = {}
    for agent_id, name, team in found:
        if access.sees_agent(principal, agent_id, team):
            teams.setdefault(team or "", []).append(AgentEntry(agent_id, name, team))
    return teams
