"""A reviewer's work: the queue dealt to them and their calibration sessions; the lead's view
of a calibration (answers side by side, agreement)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from speechqa.access import Action
from speechqa.reviews import calibration, queues
from web.deps import PageRoute, Viewer, allowed, back, database, form_of, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Calibrator = Annotated[Viewer, Depends(allowed(Action.CALIBRATE))]
QueueWorker = Annotated[Viewer, Depends(allowed(Action.WORK_QUEUE))]


@router.get("/queue")
def queue_page(request: Request, who: QueueWorker) -> Response:
    with database(request) as session:
        items = queues.my_queue(session, who.principal)
    return render(request, "queue.html", who, items=items)


@router.get("/calibrations")
def calibrations_page(request: Request, who: Calibrator) -> Response:
    with database(request) as session:
        found = calibration.visible_sessions(session, who.principal)
    return render(request, "calibrations.html", who, sessions=found)


@router.get("/calibrations/{session_id}")
def calibration_page(session_id: int, request: Request, who: Calibrator) -> Response:
    with database(request) as session:
        info = calibration.get_visible(session, who.principal, session_id)
        lead = who.may("MANAGE_CALIBRATIONS")
        report = calibration.report(session, who.principal, session_id) if lead else None
    return render(request, "calibration.html", who, info=info, report=report)


@router.post("/calibrations/{session_id}/calls/{call_id}/review")
async def start_calibration_review(
    session_id: int, call_id: str, request: Request, who: Calibrator
) -> Response:
    await form_of(request, who)
    with database(request) as session:
        calibration.start_review(session, session_id, call_id, who.principal)
    return back(f"/calls/{call_id}?calibration={session_id}#review")
