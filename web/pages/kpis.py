"""KPI dashboards for agents and teams, with every number linking to the calls behind it, the
KPI journal and the summary report (with CSV downloads)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from speechqa import access
from speechqa.access import Action
from speechqa.errors import InvalidInput
from speechqa.kpis import aggregates, reports
from speechqa.kpis.export import to_csv
from speechqa.kpis.period import BUCKETS, parse_period
from speechqa.storage.tables import Agent
from web import charts
from web.deps import PageRoute, Viewer, allowed, database, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Reader = Annotated[Viewer, Depends(allowed(Action.READ_CALLS))]
TeamReader = Annotated[Viewer, Depends(allowed(Action.READ_TEAM_REPORTS))]
JOURNAL_ROWS = 50


class Period:
    """The dashboard's period as dates (the ``to`` day included), and links that keep it."""

    def __init__(self, request: Request) -> None:
        today = datetime.now(UTC).date()
        params = request.query_params
        self.from_ = params.get("from") or (today - timedelta(days=30)).isoformat()
        self.to = params.get("to") or today.isoformat()
        bucket = params.get("bucket") or "week"
        if bucket not in BUCKETS:
            raise InvalidInput(f"Group by one of {', '.join(BUCKETS)}.")
        self.start, self.end, parsed = parse_period(self.from_, self.to, bucket)
        self.bucket = parsed or "week"
        self.every_event = params.get("journal") == "all"
        """The journal with every rule hit (by default only the notable entries)."""

    def calls(self, subject: dict[str, str] | None = None, **filters: Any) -> str:
        """The call list behind a figure: the same filters over the same period."""
        query = {"from": self.from_, "to": self.to, **(subject or {}), **filters}
        return "/calls?" + urlencode({k: v for k, v in query.items() if v is not None})

    def report(self, name: str, subject: dict[str, str]) -> str:
        """The CSV download of the journal or the summary report over the period."""
        query = {"from": self.from_, "to": self.to, "bucket": self.bucket, **subject}
        return f"/reports/{name}.csv?" + urlencode(query)

    def bucket_calls(self, start: str, **filters: Any) -> str:
        first = date.fromisoformat(start)
        if self.bucket == "day":
            last = first
        elif self.bucket == "week":
            last = first + timedelta(days=6)
        else:
            last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        query = {"from": start, "to": last.isoformat(), **filters}
        return "/calls?" + urlencode({k: v for k, v in query.items() if v is not None})


def _figures(
    period: Period, result: dict[str, Any], rows: list[Any], team_rows: list[Any], **filters: Any
) -> dict[str, Any]:
    buckets = result.get("buckets", [])
    trend = charts.trend(buckets, "qa_score", "QA score")
    links = [
        [period.bucket_calls(b["start"], **filters) for b in buckets if "qa_score" in b["metrics"]]
    ]
    mine = [float(r.values["qa_score"]) for r in rows if "qa_score" in r.values]
    theirs = [float(r.values["qa_score"]) for r in team_rows if "qa_score" in r.values]
    return {
        "trend": trend,
        "trend_links": links,
        "spread": charts.against_team(mine, theirs, "QA score") if theirs else None,
    }


def _names(session: Session, agent_ids: list[str]) -> dict[str, str]:
    """Agent id -> the name upstream sent, for those that have one."""
    if not agent_ids:
        return {}
    found = session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(set(agent_ids))))
    return {agent_id: name for agent_id, name in found if name}


@router.get("/agents/{agent_id}")
def agent_page(agent_id: str, request: Request, who: Reader) -> Response:
    period = Period(request)
    with database(request) as session:
        result = aggregates.agent_kpis(session, agent_id, period.start, period.end, period.bucket)
        access.check_agent(who.principal, agent_id, result["team"])
        rows = aggregates.stats_rows(session, agent_id=agent_id, start=period.start, end=period.end)
        team_rows = []
        if result["team"] and who.principal.agent_id is None:
            team_rows = aggregates.stats_rows(
                session, team=result["team"], start=period.start, end=period.end
            )
        events = reports.as_rows(
            reports.journal(
                session,
                start=period.start,
                end=period.end,
                agent_id=agent_id,
                limit=JOURNAL_ROWS,
                notable=not period.every_event,
                newest_first=True,
            )
        )
        names = _names(session, [agent_id])
    figures = _figures(period, result, rows, team_rows, agent_id=agent_id)
    return render(
        request,
        "kpis.html",
        who,
        title=f"Agent {result['agent_name'] or agent_id}",
        subject={"agent_id": agent_id},
        result=result,
        period=period,
        events=events,
        figures=figures,
        summary=None,
        names=names,
    )


@router.get("/teams/{team}")
def team_page(team: str, request: Request, who: TeamReader) -> Response:
    period = Period(request)
    with database(request) as session:
        access.check_team(who.principal, team)
        result = aggregates.team_kpis(session, team, period.start, period.end, period.bucket)
        rows = aggregates.stats_rows(session, team=team, start=period.start, end=period.end)
        board = aggregates.leaderboard(session, "qa_score", period.start, period.end, team)
        events = reports.as_rows(
            reports.journal(
                session,
                start=period.start,
                end=period.end,
                team=team,
                limit=JOURNAL_ROWS,
                notable=not period.every_event,
                newest_first=True,
            )
        )
        summary = reports.summary_report(
            session, start=period.start, end=period.end, bucket=None, team=team
        )
        names = _names(session, [r.agent_id for r in rows])
    figures = _figures(period, result, [], rows, team=team)
    figures["spread"] = None
    return render(
        request,
        "kpis.html",
        who,
        title=f"Team {team}",
        subject={"team": team},
        result=result,
        period=period,
        events=events,
        figures=figures,
        board=board,
        summary=summary,
        names=names,
    )


@router.get("/teams")
def teams_page(request: Request, who: TeamReader) -> Response:
    """The teams and agents the viewer may see."""
    with database(request) as session:
        agents = session.execute(
            select(Agent.id, Agent.name, Agent.team).order_by(Agent.team, Agent.id)
        ).all()
    visible = [a for a in agents if access.sees_agent(who.principal, a.id, a.team)]
    teams: dict[str, list[Any]] = {}
    for agent in visible:
        teams.setdefault(agent.team or "", []).append(agent)
    return render(request, "teams.html", who, teams=teams)


def _csv(rows: list[dict[str, Any]], name: str) -> Response:
    return Response(
        to_csv(rows),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _report_scope(who: Viewer, request: Request) -> tuple[str | None, str | None]:
    agent_id = request.query_params.get("agent_id") or None
    team = request.query_params.get("team") or None
    if who.principal.agent_id is not None:
        agent_id = who.principal.agent_id
        team = None
    else:
        team = access.check_team(who.principal, team)
    return agent_id, team


@router.get("/reports/journal.csv")
def journal_csv(request: Request, who: Reader) -> Response:
    """The KPI journal of the period as CSV (the API's columns)."""
    period = Period(request)
    agent_id, team = _report_scope(who, request)
    with database(request) as session:
        events = reports.journal(
            session, start=period.start, end=period.end, agent_id=agent_id, team=team, limit=10_000
        )
        if agent_id is not None:
            agent = session.get(Agent, agent_id)
            access.check_agent(who.principal, agent_id, agent.team if agent else None)
    return _csv(reports.as_rows(events), "kpi-journal.csv")


@router.get("/reports/summary.csv")
def summary_csv(request: Request, who: TeamReader) -> Response:
    period = Period(request)
    _, team = _report_scope(who, request)
    with database(request) as session:
        rows = reports.summary_report(
            session, start=period.start, end=period.end, bucket=period.bucket, team=team
        )
    return _csv(reports.summary_table(rows), "kpi-summary.csv")
