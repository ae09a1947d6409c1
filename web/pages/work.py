"""A reviewer's work: the queue dealt to them and their calibration sessions; a lead's queues
(made and sampled here, with each reviewer's progress) and calibration sessions (made here from
calls picked by a filter; answers side by side, agreement).

A form the core refuses (a name taken, a reviewer who could not see the calls) comes back as
its page with the reason above the form and what was typed still in it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import FormData

from speechqa import zones
from speechqa.access import Action
from speechqa.calls.listing import CallFilters, CallRow, list_calls
from speechqa.errors import InvalidInput, SpeechQAError
from speechqa.reviews import calibration, queues
from speechqa.storage.tables import CallStatus
from speechqa_service.http import status_for

from .. import times
from ..deps import PageRoute, Viewer, allowed, back, database, form_of, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Calibrator = Annotated[Viewer, Depends(allowed(Action.CALIBRATE))]
CalibrationLead = Annotated[Viewer, Depends(allowed(Action.MANAGE_CALIBRATIONS))]
QueueWorker = Annotated[Viewer, Depends(allowed(Action.WORK_QUEUE))]
QueueLead = Annotated[Viewer, Depends(allowed(Action.MANAGE_QUEUES))]

QUEUE_FILTERS = (
    "team",
    "agent_id",
    "max_score",
    "min_score",
    "critical_fail",
    "customer_sentiment",
    "rule_missed",
    "rule",
    "tag",
)
"""The call-list filters the queue form offers (what the API's filter rule takes)."""
PICK_FILTERS = ("team", "agent_id", "max_score", "critical_fail", "from", "to")
"""The filters that find calls for a new calibration session."""
PICK_LIMIT = 40


def call_label(
    external_id: str | None,
    agent_id: str,
    started_at: datetime | str | None,
    received_at: datetime | None = None,
    zone: zones.ShownZone = zones.UTC_ZONE,
) -> str:
    """A call as people tell calls apart: its external id, agent and time (in the viewer's
    zone; the time it arrived when the call's own start is unknown)."""
    when = started_at if started_at is not None else received_at
    shown = zone.format(when) if when is not None else "time unknown"
    if started_at is None and when is not None:
        shown = "received " + shown
    return " · ".join(p for p in (external_id, agent_id, shown) if p)


def _labeller(request: Request, who: Viewer) -> Callable[..., str]:
    """:func:`call_label` in the viewer's zone, for a page."""
    return partial(call_label, zone=times.zone_of(request, who.principal))


def rule_text(rule: dict[str, Any]) -> str:
    """A queue's rule in words."""
    if rule.get("kind") == "random_per_agent":
        text = (
            f"{rule['per_agent']} random call{'s' if rule['per_agent'] != 1 else ''} per "
            f"agent received in the last {rule['days']} days"
        )
    else:
        shown = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in rule.get("filters", {}).items())
        text = f"the newest {rule.get('limit')} calls with {shown}"
    if rule.get("teams"):
        text += f"; teams {', '.join(rule['teams'])}"
    return text


# -- queues -------------------------------------------------------------------------------------


@router.get("/queue")
def queue_page(request: Request, who: QueueWorker) -> Response:
    return _queue_page(request, who)


def _queue_page(
    request: Request,
    who: Viewer,
    *,
    problem: str | None = None,
    typed: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    lead = who.may("MANAGE_QUEUES")
    with database(request) as session:
        items = queues.my_queue(session, who.principal)
        progress = queues.all_progress(session, who.principal) if lead else []
        people = (
            queues.eligible_reviewers(session, who.principal, Action.WORK_QUEUE) if lead else []
        )
    response = render(
        request,
        "queue.html",
        who,
        items=items,
        progress=progress,
        lead=lead,
        people=people,
        problem=problem,
        typed=typed or _queue_defaults(),
        call_label=_labeller(request, who),
        rule_text=rule_text,
    )
    response.status_code = status
    return response


def _queue_defaults() -> dict[str, Any]:
    return {
        "kind": "random_per_agent",
        "per_agent": "2",
        "days": "7",
        "limit": "20",
        "reviewers": [],
        "sample": True,
    }


def _whole(form: FormData, name: str, default: int) -> int:
    raw = str(form.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise InvalidInput(f"'{name.replace('_', ' ')}' is a whole number, not {raw!r}.")
    return int(raw)


def _queue_rule(form: FormData) -> dict[str, Any]:
    """The sampling rule the form describes, in the API's words."""
    kind = str(form.get("kind") or "")
    rule: dict[str, Any] = {"kind": kind}
    if kind == "random_per_agent":
        rule.update(per_agent=_whole(form, "per_agent", 1), days=_whole(form, "days", 7))
    elif kind == "filter":
        filters: dict[str, Any] = {}
        for name in QUEUE_FILTERS:
            raw = str(form.get(name) or "").strip()
            if not raw:
                continue
            if name == "critical_fail":
                filters[name] = raw == "yes"
            elif name in ("max_score", "min_score"):
                try:
                    filters[name] = float(raw)
                except ValueError:
                    raise InvalidInput(f"'{name.replace('_', ' ')}' is a number.") from None
            else:
                filters[name] = raw
        if not filters:
            raise InvalidInput("A filter queue needs at least one filter (a team, a score...).")
        rule.update(filters=filters, limit=_whole(form, "limit", 20))
    teams = [t.strip() for t in str(form.get("teams") or "").split(",") if t.strip()]
    if teams:
        rule["teams"] = teams
    return rule


@router.post("/queues")
async def create_queue(request: Request, who: QueueLead) -> Response:
    """A new queue from the form; with 'deal now' checked its first calls are dealt at once."""
    form = await form_of(request, who)
    typed: dict[str, Any] = {k: str(v) for k, v in form.items() if k != "csrf"}
    typed["reviewers"] = [str(r) for r in form.getlist("reviewers")]
    typed["sample"] = bool(form.get("sample"))
    name = str(form.get("name") or "").strip()
    try:
        if not name:
            raise InvalidInput("Name the queue.")
        rule = _queue_rule(form)
        with database(request) as session:
            made = queues.create(session, name, rule, typed["reviewers"], who.principal)
            dealt = queues.sample(session, who.principal, made.id) if typed["sample"] else None
    except SpeechQAError as exc:
        return _queue_page(
            request,
            who,
            problem=f"The queue was not created: {exc.message}",
            typed=typed,
            status=status_for(exc),
        )
    told = f"Queue {made.name!r} created"
    told += f"; {_dealt(dealt)}." if dealt is not None else "; deal its calls when ready."
    return back(f"/queue#queue-{made.id}", told)


def _dealt(dealt: list[queues.Assignment]) -> str:
    if not dealt:
        return "no call to deal now (none its reviewers could take)"
    per: dict[str, int] = {}
    for a in dealt:
        per[a.assignee] = per.get(a.assignee, 0) + 1
    split = ", ".join(f"{n} to {r}" for r, n in per.items())
    return f"{len(dealt)} call{'s' if len(dealt) != 1 else ''} dealt ({split})"


@router.post("/queues/{queue_id}/sample")
async def sample_queue(queue_id: int, request: Request, who: QueueLead) -> Response:
    await form_of(request, who)
    with database(request) as session:
        dealt = queues.sample(session, who.principal, queue_id)
    return back(f"/queue#queue-{queue_id}", _dealt(dealt)[:1].upper() + _dealt(dealt)[1:] + ".")


# -- calibration --------------------------------------------------------------------------------


@router.get("/calibrations")
def calibrations_page(request: Request, who: Calibrator) -> Response:
    return _calibrations_page(request, who)


def _calibrations_page(
    request: Request,
    who: Viewer,
    *,
    params: dict[str, str] | None = None,
    problem: str | None = None,
    typed: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    lead = who.may("MANAGE_CALIBRATIONS")
    if params is None:
        params = {k: v for k, v in request.query_params.items() if k in PICK_FILTERS and v}
    typed = typed or {"reviewers": [], "calls": []}
    with database(request) as session:
        found = calibration.visible_sessions(session, who.principal)
        scored = calibration.scored_by(session, who.principal.who, [s.id for s in found])
        people, picks = [], []
        if lead:
            people = queues.eligible_reviewers(session, who.principal, Action.CALIBRATE)
            picks = _pickable(session, who, params)
    response = render(
        request,
        "calibrations.html",
        who,
        sessions=found,
        scored=scored,
        lead=lead,
        people=people,
        picks=picks,
        params=params,
        problem=problem,
        typed=typed,
        call_label=_labeller(request, who),
    )
    response.status_code = status
    return response


def _pickable(session: Any, who: Viewer, params: dict[str, str]) -> list[CallRow]:
    """Analysed calls the lead sees matching the pick filters, newest first."""
    raw_score = params.get("max_score")
    try:
        max_score = float(raw_score) if raw_score else None
    except ValueError:
        raise InvalidInput("'max score' is a number.") from None
    filters = CallFilters(
        status=CallStatus.DONE,
        team=params.get("team"),
        agent_id=params.get("agent_id"),
        max_score=max_score,
        critical_fail=True if params.get("critical_fail") == "yes" else None,
    ).between(params.get("from"), params.get("to"))
    return list_calls(session, filters.seen_by(who.principal), limit=PICK_LIMIT).rows


@router.post("/calibrations")
async def create_calibration(request: Request, who: CalibrationLead) -> Response:
    form = await form_of(request, who)
    typed: dict[str, Any] = {
        "name": str(form.get("name") or ""),
        "reviewers": [str(r) for r in form.getlist("reviewers")],
        "calls": [str(c) for c in form.getlist("calls")],
    }
    try:
        name = typed["name"].strip()
        if not name:
            raise InvalidInput("Name the session.")
        if not typed["calls"]:
            raise InvalidInput("Tick at least one call to score.")
        if len(set(typed["reviewers"])) < 2:
            raise InvalidInput("Tick at least two reviewers: calibration compares them.")
        with database(request) as session:
            made = calibration.create(
                session, name, typed["calls"], typed["reviewers"], who.principal
            )
    except SpeechQAError as exc:
        params = {k: str(form.get(k)) for k in PICK_FILTERS if form.get(k)}
        problem = f"The session was not created: {exc.message}"
        return _calibrations_page(
            request, who, params=params, typed=typed, status=status_for(exc), problem=problem
        )
    return back(f"/calibrations/{made.id}", f"Calibration session {made.name!r} created.")


@router.get("/calibrations/{session_id}")
def calibration_page(session_id: int, request: Request, who: Calibrator) -> Response:
    with database(request) as session:
        info = calibration.get_visible(session, who.principal, session_id)
        calls = calibration.session_calls(session, who.principal, session_id)
        lead = who.may("MANAGE_CALIBRATIONS")
        report = calibration.report(session, who.principal, session_id) if lead else None
    label = _labeller(request, who)
    labels = {
        c.call_id: label(c.external_id, c.agent_id, c.started_at, c.received_at) for c in calls
    }
    return render(
        request, "calibration.html", who, info=info, calls=calls, report=report, labels=labels
    )


@router.post("/calibrations/{session_id}/calls/{call_id}/review")
async def start_calibration_review(
    session_id: int, call_id: str, request: Request, who: Calibrator
) -> Response:
    await form_of(request, who)
    with database(request) as session:
        calibration.start_review(session, session_id, call_id, who.principal)
    return back(f"/calls/{call_id}?calibration={session_id}#review")
