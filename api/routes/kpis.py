"""KPIs per agent and team, the leaderboard, the KPI journal and the summary report."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from speechqa import access
from speechqa.kpis import aggregates, reports
from speechqa.kpis.dashboards import JournalQuery, journal_page
from speechqa.kpis.export import to_csv
from speechqa.kpis.period import parse_period

from ..deps import MAX_ID, From, Reader, SessionDep, TeamReports, To
from ..schemas import ERRORS, AgentKpis, KpiJournal, Leaderboard, SummaryReport, TeamKpis

router = APIRouter(tags=["kpis"], responses=ERRORS)

_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with Accept: text/csv"}
}


def _wants_csv(request: Request) -> bool:
    return "text/csv" in request.headers.get("accept", "")


def _csv(rows: list[dict[str, Any]], filename: str) -> Response:
    return Response(
        to_csv(rows),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _calls_url(request: Request, **filters: Any) -> str:
    query = urlencode({k: v for k, v in filters.items() if v is not None})
    return f"{request.url_for('list_calls')}?{query}"


@router.get("/v1/agents/{agent_id}/kpis", response_model=AgentKpis)
def agent_kpis(
    agent_id: str,
    request: Request,
    session: SessionDep,
    principal: Reader,
    from_: From = None,
    to: To = None,
    bucket: str | None = None,
) -> dict[str, Any]:
    """An agent's KPIs over a period (default: the last 30 days), optionally by day/week/month.

    ``from`` and ``to`` are dates (the ``to`` day included) or ISO datetimes.
    """
    start, end, bucket = parse_period(from_, to, bucket)
    result = aggregates.agent_kpis(session, agent_id, start, end, bucket)
    access.check_agent(principal, agent_id, result["team"])
    result["calls_url"] = _calls_url(
        request, agent_id=agent_id, **{"from": start.isoformat(), "to": end.isoformat()}
    )
    return result


@router.get("/v1/teams/{team}/kpis", response_model=TeamKpis)
def team_kpis(
    team: str,
    request: Request,
    session: SessionDep,
    principal: TeamReports,
    from_: From = None,
    to: To = None,
    bucket: str | None = None,
) -> dict[str, Any]:
    """A team's KPIs over a period, optionally by day/week/month."""
    start, end, bucket = parse_period(from_, to, bucket)
    access.check_team(principal, team)
    result = aggregates.team_kpis(session, team, start, end, bucket)
    result["calls_url"] = _calls_url(
        request, team=team, **{"from": start.isoformat(), "to": end.isoformat()}
    )
    return result


@router.get("/v1/leaderboard", response_model=Leaderboard)
def leaderboard(
    session: SessionDep,
    principal: TeamReports,
    metric: str = "qa_score",
    from_: From = None,
    to: To = None,
    team: str | None = None,
    order: str = "desc",
) -> dict[str, Any]:
    """Agents ranked by the mean of a metric over a period."""
    start, end, _bucket = parse_period(from_, to, None)
    team = access.check_team(principal, team)
    board = aggregates.leaderboard(session, metric, start, end, team, ascending=order == "asc")
    return {"metric": metric, "from": start.isoformat(), "to": end.isoformat(), "agents": board}


@router.get(
    "/v1/reports/kpi-journal",
    response_model=None,
    responses={**_CSV, 200: {**_CSV[200], "model": KpiJournal}},
)
def kpi_journal(
    request: Request,
    session: SessionDep,
    principal: TeamReports,
    from_: From = None,
    to: To = None,
    agent_id: str | None = None,
    team: str | None = None,
    counter: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="At most 1,000 as JSON.")] = 100,
    cursor: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
) -> KpiJournal | Response:
    """Every counter that fired (rule hits, critical fails, long silences, sentiment drops)."""
    start, end, _bucket = parse_period(from_, to, None)
    team = access.check_team(principal, team)
    if agent_id is not None:
        access.agent_for(session, principal, agent_id)
    limit = min(limit, 10_000 if _wants_csv(request) else 1000)
    query = JournalQuery(start, end, agent_id, team, counter, limit=limit, after=cursor)
    page = journal_page(session, query)
    if _wants_csv(request):
        return _csv(page.rows, "kpi-journal.csv")
    return KpiJournal.model_validate({"events": page.rows, "next_cursor": page.next_cursor})


@router.get(
    "/v1/reports/summary",
    response_model=None,
    responses={**_CSV, 200: {**_CSV[200], "model": SummaryReport}},
)
def summary_report(
    request: Request,
    session: SessionDep,
    principal: TeamReports,
    from_: From = None,
    to: To = None,
    bucket: str | None = None,
    team: str | None = None,
) -> SummaryReport | Response:
    """The KPI journal counted per agent (and per day/week/month)."""
    start, end, bucket = parse_period(from_, to, bucket)
    team = access.check_team(principal, team)
    rows = reports.summary_report(session, start=start, end=end, bucket=bucket, team=team)
    if _wants_csv(request):
        return _csv(reports.summary_table(rows), "kpi-summary.csv")
    return SummaryReport.model_validate(
        {"from": start.isoformat(), "to": end.isoformat(), "bucket": bucket, "rows": rows}
    )
