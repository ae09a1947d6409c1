"""KPIs per agent and team, the leaderboard, the KPI journal and the summary report."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import Review, SessionDep
from speechqa import kpis

router = APIRouter(tags=["kpis"])

From = Annotated[
    str | None, Query(alias="from", description="Start date (YYYY-MM-DD) or datetime.")
]


def _wants_csv(request: Request) -> bool:
    return "text/csv" in request.headers.get("accept", "")


def _csv(rows: list[dict[str, Any]], filename: str) -> Response:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _calls_url(request: Request, **filters: Any) -> str:
    query = urlencode({k: v for k, v in filters.items() if v is not None})
    return f"{request.url_for('list_calls')}?{query}"


@router.get("/v1/agents/{agent_id}/kpis")
def agent_kpis(
    agent_id: str,
    request: Request,
    session: SessionDep,
    _: Review,
    from_: From = None,
    to: str | None = None,
    bucket: str | None = None,
) -> dict[str, Any]:
    """An agent's KPIs over a period (default: the last 30 days), optionally by day/week/month.

    ``from`` and ``to`` are dates (the ``to`` day included) or ISO datetimes.
    """
    start, end, bucket = kpis.parse_period(from_, to, bucket)
    result = kpis.agent_kpis(session, agent_id, start, end, bucket)
    result["calls_url"] = _calls_url(
        request, agent_id=agent_id, **{"from": start.isoformat(), "to": end.isoformat()}
    )
    return result


@router.get("/v1/teams/{team}/kpis")
def team_kpis(
    team: str,
    request: Request,
    session: SessionDep,
    _: Review,
    from_: From = None,
    to: str | None = None,
    bucket: str | None = None,
) -> dict[str, Any]:
    """A team's KPIs over a period, optionally by day/week/month."""
    start, end, bucket = kpis.parse_period(from_, to, bucket)
    result = kpis.team_kpis(session, team, start, end, bucket)
    result["calls_url"] = _calls_url(
        request, team=team, **{"from": start.isoformat(), "to": end.isoformat()}
    )
    return result


@router.get("/v1/leaderboard")
def leaderboard(
    request: Request,
    session: SessionDep,
    _: Review,
    metric: str = "qa_score",
    from_: From = None,
    to: str | None = None,
    team: str | None = None,
    order: str = "desc",
) -> dict[str, Any]:
    """Agents ranked by the mean of a metric over a period."""
    start, end, _bucket = kpis.parse_period(from_, to, None)
    board = kpis.leaderboard(session, metric, start, end, team, ascending=order == "asc")
    return {"metric": metric, "from": start.isoformat(), "to": end.isoformat(), "agents": board}


@router.get("/v1/reports/kpi-journal", response_model=None)
def kpi_journal(
    request: Request,
    session: SessionDep,
    _: Review,
    from_: From = None,
    to: str | None = None,
    agent_id: str | None = None,
    team: str | None = None,
    counter: str | None = None,
    limit: int = 100,
    cursor: int | None = None,
) -> dict[str, Any] | Response:
    """Every counter that fired (rule hits, critical fails, long silences, sentiment drops)."""
    start, end, _bucket = kpis.parse_period(from_, to, None)
    limit = max(1, min(limit, 10_000 if _wants_csv(request) else 1000))
    events = kpis.journal(
        session,
        start=start,
        end=end,
        agent_id=agent_id,
        team=team,
        counter=counter,
        limit=limit,
        after=cursor,
    )
    rows = kpis.as_rows(events)
    if _wants_csv(request):
        return _csv(rows, "kpi-journal.csv")
    next_cursor = rows[-1]["id"] if len(rows) == limit else None
    return {"events": rows, "next_cursor": next_cursor}


@router.get("/v1/reports/summary", response_model=None)
def summary_report(
    request: Request,
    session: SessionDep,
    _: Review,
    from_: From = None,
    to: str | None = None,
    bucket: str | None = None,
    team: str | None = None,
) -> dict[str, Any] | Response:
    """The KPI journal counted per agent (and per day/week/month)."""
    start, end, bucket = kpis.parse_period(from_, to, bucket)
    rows = kpis.summary_report(session, start=start, end=end, bucket=bucket, team=team)
    if _wants_csv(request):
        counters = sorted({c for r in rows for c in r["counters"]})
        flat = [
            {
                "agent_id": r["agent_id"],
                "period": r["period"] or "",
                "calls": r["calls"],
                **{c: r["counters"].get(c, 0) for c in counters},
            }
            for r in rows
        ]
        return _csv(flat, "kpi-summary.csv")
    return {"from": start.isoformat(), "to": end.isoformat(), "bucket": bucket, "rows": rows}
