"""Reviews: a reviewer's draft beside the automatic evaluation, answers, comments, submission."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from api.deps import (
    MAX_ID,
    AnswerReview,
    Reader,
    Resolve,
    Reviewing,
    SessionDep,
    SettingsDep,
    TeamReports,
)
from api.schemas import (
    ERRORS,
    CommentCreate,
    DisputeCreate,
    ErrorResponse,
    ItemAnswer,
    Resolution,
    ReviewRead,
    ReviewStart,
    ReviewSubmit,
    RuleQuality,
)
from speechqa.reviews import quality, workflow

router = APIRouter(tags=["reviews"], responses=ERRORS)
ReviewId = Path(ge=1, le=MAX_ID)
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "The review or call is in another state"}
}


def _read(review: workflow.ReviewView) -> dict[str, Any]:
    return ReviewRead.model_validate(asdict(review)).model_dump(mode="json")


@router.post(
    "/v1/calls/{call_id}/reviews",
    status_code=201,
    response_model=ReviewRead,
    responses={200: {"model": ReviewRead, "description": "Your open draft"}, **CONFLICT},
)
def start_review(
    call_id: str, session: SessionDep, principal: Reviewing, body: ReviewStart = ReviewStart()
) -> JSONResponse:
    """Start a draft review of an analysed call (or get your open draft on it). An agent's
    review of their own call is a self-review: it never counts for KPIs. Once a submitted
    review counts, a new one is a re-evaluation: a lead's or that reviewer's, with a
    ``reason`` (409 otherwise, naming who reviewed it, and while its dispute is open)."""
    review, created = workflow.start(session, call_id, principal, reason=body.reason)
    return JSONResponse(_read(review), status_code=201 if created else 200)


@router.get("/v1/calls/{call_id}/reviews", response_model=list[ReviewRead])
def call_reviews(call_id: str, session: SessionDep, principal: Reader) -> list[dict[str, Any]]:
    """Every review of a call, drafts included, each with its audit trail."""
    return [_read(r) for r in workflow.for_call(session, call_id, principal)]


@router.get("/v1/reviews/{review_id}", response_model=ReviewRead)
def get_review(session: SessionDep, principal: Reader, review_id: int = ReviewId) -> Any:
    return _read(workflow.get(session, review_id, principal))


@router.put("/v1/reviews/{review_id}/items/{key}", response_model=ReviewRead, responses=CONFLICT)
def answer_item(
    key: str, body: ItemAnswer, session: SessionDep, principal: Reviewing, review_id: int = ReviewId
) -> Any:
    """Accept the automatic answer of an item, or override it with a reason."""
    review = workflow.answer(session, review_id, principal, key, body.decision, body.reason)
    return _read(review)


@router.post("/v1/reviews/{review_id}/comments", response_model=ReviewRead, responses=CONFLICT)
def add_comment(
    body: CommentCreate, session: SessionDep, principal: Reviewing, review_id: int = ReviewId
) -> Any:
    """Comment on the call, an utterance (its id) or a span (start, end in seconds)."""
    review = workflow.comment(session, review_id, principal, body.text,
                              utterance=body.utterance, start=body.start, end=body.end)  # fmt: skip
    return _read(review)


@router.post("/v1/reviews/{review_id}/submit", response_model=ReviewRead, responses=CONFLICT)
def submit_review(
    session: SessionDep,
    principal: Reviewing,
    review_id: int = ReviewId,
    body: ReviewSubmit = ReviewSubmit(),
) -> Any:
    """Submit: the ``answers`` given are saved (all or none), the final score is added up and
    counts for the call's KPIs from now on. A re-evaluation supersedes the review it revises
    (kept, no longer counted) and awaits the agent's answer afresh."""
    answers = {k: workflow.Choice(a.decision, a.reason) for k, a in body.answers.items()}
    return _read(workflow.submit(session, review_id, principal, answers))


@router.post("/v1/reviews/{review_id}/acknowledge", response_model=ReviewRead, responses=CONFLICT)
def acknowledge_review(
    session: SessionDep, principal: AnswerReview, review_id: int = ReviewId
) -> Any:
    """The call's agent accepts the submitted review."""
    return _read(workflow.acknowledge(session, review_id, principal))


@router.post("/v1/reviews/{review_id}/dispute", response_model=ReviewRead, responses=CONFLICT)
def dispute_review(
    body: DisputeCreate,
    session: SessionDep,
    settings: SettingsDep,
    principal: AnswerReview,
    review_id: int = ReviewId,
) -> Any:
    """The call's agent disputes items, within ``SPEECHQA_DISPUTE_DAYS`` of submission."""
    review = workflow.dispute(session, review_id, principal, body.items, body.comment,
                              settings.dispute_days)  # fmt: skip
    return _read(review)


@router.post("/v1/reviews/{review_id}/resolve", response_model=ReviewRead, responses=CONFLICT)
def resolve_dispute(
    body: Resolution, session: SessionDep, principal: Resolve, review_id: int = ReviewId
) -> Any:
    """A lead upholds the review or adjusts items, with a reason."""
    answers = {k: (a.decision, a.reason) for k, a in body.answers.items()}
    review = workflow.resolve(session, review_id, principal, body.outcome, body.reason, answers)
    return _read(review)


@router.get("/v1/rules/quality", response_model=RuleQuality)
def rule_quality(session: SessionDep, principal: TeamReports, ruleset: str | None = None) -> Any:
    """Each scorecard item's automatic answers judged by reviewers: agreement, precision and
    recall over the submitted reviews the caller may see."""
    items = quality.item_quality(session, principal, ruleset)
    return {
        "items": [
            {**{k: v for k, v in asdict(q).items() if k != "calls"}, "agreement": q.agreement,
             "precision": q.precision, "recall": q.recall}
            for q in items
        ]
    }  # fmt: skip
