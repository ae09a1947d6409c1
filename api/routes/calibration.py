"""Calibration sessions: the same calls scored by several reviewers, and their agreement."""

from __future__ import annotations

from fastapi import APIRouter, Path, Response

from speechqa.reviews import calibration
from speechqa.reviews.workflow import ReviewView

from ..deps import MAX_ID, Calibrate, ManageCalibrations, SessionDep
from ..schemas import ERRORS, CalibrationCreate, ErrorResponse

router = APIRouter(tags=["reviews"], responses=ERRORS)
SessionId = Path(ge=1, le=MAX_ID)


@router.post(
    "/v1/calibrations",
    status_code=201,
    response_model=calibration.CalibrationInfo,
    responses={409: {"model": ErrorResponse, "description": "A session with that name exists"}},
)
def create_session(
    body: CalibrationCreate, session: SessionDep, principal: ManageCalibrations
) -> calibration.CalibrationInfo:
    """A calibration session: calls every named reviewer scores on their own."""
    return calibration.create(session, body.name, body.calls, body.reviewers, principal)


@router.post(
    "/v1/calibrations/{session_id}/calls/{call_id}/reviews",
    status_code=201,
    response_model=ReviewView,
    responses={200: {"model": ReviewView, "description": "Your open draft"}},
)
def start_calibration_review(
    call_id: str,
    response: Response,
    session: SessionDep,
    principal: Calibrate,
    session_id: int = SessionId,
) -> ReviewView:
    """Start (or get) your calibration review of a call; answer and submit it with the usual
    review routes. It never counts for the call's KPIs."""
    review, created = calibration.start_review(session, session_id, call_id, principal)
    response.status_code = 201 if created else 200
    return review


@router.get("/v1/calibrations/{session_id}", response_model=calibration.Report)
def calibration_report(
    session: SessionDep, principal: ManageCalibrations, session_id: int = SessionId
) -> calibration.Report:
    """Answers side by side, percent agreement, Fleiss' kappa, each reviewer against the
    consensus, and the machine against the consensus (precision and recall per item)."""
    return calibration.report(session, principal, session_id)
