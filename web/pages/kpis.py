"""KPI dashboards for agents and teams, with every number linking to the calls behind it, the
KPI journal and the summary report (with CSV downloads)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response

from speechqa import access
from speechqa.access import Action
from speechqa.errors import InvalidInput
from speechqa.kpis import dashboards, reports
from speechqa.kpis.dashboards import JournalQuery, Span, journal_page
from speechqa.kpis.export import to_csv
from speechqa.kpis.period import BUCKETS, parse_period

from .. import charts
from ..deps import PageRoute, Viewer, allowed, database, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Reader = Annotated[Viewer, Depends(allowed(Action.READ_CALLS))]
TeamReader = Annotated[Viewer, Depends(allowed(Action.READ_TEAM_REPORTS))]


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
        self.span = Span(self.start, self.end, self.bucket, self.every_event)

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


@router.get("/agents/{agent_id}")
def agent_page(agent_id: str, request: Request, who: Reader) -> Response:
    period = Period(request)
    with database(request) as session:
        shown = dashboards.agent_dashboard(session, who.principal, agent_id, period.span)
    result = shown.kpis
    figures = _figures(period, result, shown.rows, shown.team_rows, agent_id=agent_id)
    return render(
        request,
        "kpis.html",
        who,
        title=f"Agent {result['agent_name'] or agent_id}",
        subject={"agent_id": agent_id},
        result=result,
        period=period,
        events=shown.events,
        figures=figures,
        summary=None,
        names=shown.names,
    )


@router.get("/teams/{team}")
def team_page(team: str, request: Request, who: TeamReader) -> Response:
    period = Period(request)
    with database(request) as session:
        shown = dashboards.team_dashboard(session, who.principal, team, period.span)
    figures = _figures(period, shown.kpis, [], shown.rows, team=team)
    figures["spread"] = None
    return render(
        request,
        "kpis.html",
        who,
        title=f"Team {team}",
        subject={"team": team},
        result=shown.kpis,
        period=period,
        events=shown.events,
        figures=figures,
        board=shown.board,
        summary=shown.summary,
        names=shown.names,
    )


@router.get("/teams")
def teams_page(request: Request, who: TeamReader) -> Response:
    """The teams and agents the viewer may see."""
    with database(request) as session:
        teams = dashboards.visible_agents(session, who.principal)
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
    query = JournalQuery(period.start, period.end, agent_id, team, limit=10_000)
    with database(request) as session:
        page = journal_page(session, query)
        if agent_id is not None:
            access.agent_for(session, who.principal, agent_id)
    return _csv(page.rows, "kpi-journal.csv")


@router.get("/reports/summary.csv")
def summary_csv(request: Request, who: TeamReader) -> Response:
    period = Period(request)
    _, team = _report_scope(who, request)
    with database(request) as session:
        rows = reports.summary_report(
            session, start=period.start, end=period.end, bucket=period.bucket, team=team
        )
    return _csv(reports.summary_table(rows), "kpi-summary.csv")
