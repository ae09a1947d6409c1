"""Reviews: a reviewer's draft beside the automatic evaluation, answers, comments, submission."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Response

from speechqa.reviews import quality, workflow
from speechqa.reviews.workflow import ReviewView

from ..deps import (
    MAX_ID,
    AnswerReview,
    Reader,
    Resolve,
    Reviewing,
    SessionDep,
    SettingsDep,
    TeamReports,
)
from ..schemas import (
    ERRORS,
    CommentCreate,
    DisputeCreate,
    ErrorResponse,
    ItemAnswer,
    Resolution,
    ReviewStart,
    ReviewSubmit,
    RuleQuality,
)

router = APIRouter(tags=["reviews"], responses=ERRORS)
ReviewId = Path(ge=1, le=MAX_ID)
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "The review or call is in another state"}
}


@router.post(
    "/v1/calls/{call_id}/reviews",
    status_code=201,
    response_model=ReviewView,
    responses={200: {"model": ReviewView, "description": "Your open draft"}, **CONFLICT},
)
def start_review(
    call_id: str,
    response: Response,
    session: SessionDep,
    principal: Reviewing,
    body: ReviewStart = ReviewStart(),
) -> ReviewView:
    """Start a draft review of an analysed call (or get your open draft on it). An agent's
    review of their own call is a self-review: it never counts for KPIs. Once a submitted
    review counts, a new one is a re-evaluation: a lead's or that reviewer's, with a
    ``reason`` (409 otherwise, naming who reviewed it, and while its dispute is open)."""
    review, created = workflow.start(session, call_id, principal, reason=body.reason)
    response.status_code = 201 if created else 200
    return review


@router.get("/v1/calls/{call_id}/reviews", response_model=list[ReviewView])
def call_reviews(call_id: str, session: SessionDep, principal: Reader) -> list[ReviewView]:
    """Every review of a call, drafts included, each with its audit trail."""
    return workflow.for_call(session, call_id, principal)


@router.get("/v1/reviews/{review_id}", response_model=ReviewView)
def get_review(session: SessionDep, principal: Reader, review_id: int = ReviewId) -> ReviewView:
    return workflow.get(session, review_id, principal)


@router.put("/v1/reviews/{review_id}/items/{key}", response_model=ReviewView, responses=CONFLICT)
def answer_item(
    key: str, body: ItemAnswer, session: SessionDep, principal: Reviewing, review_id: int = ReviewId
) -> ReviewView:
    """Accept the automatic answer of an item, or override it with a reason."""
    review = workflow.answer(session, review_id, principal, key, body.decision, body.reason)
    return review


@router.post("/v1/reviews/{review_id}/comments", response_model=ReviewView, responses=CONFLICT)
def add_comment(
    body: CommentCreate, session: SessionDep, principal: Reviewing, review_id: int = ReviewId
) -> ReviewView:
    """Comment on the call, an utterance (its id) or a span (start, end in seconds)."""
    review = workflow.comment(
        session,
        review_id,
        principal,
        body.text,
        utterance=body.utterance,
        start=body.start,
        end=body.end,
    )
    return review


@router.post("/v1/reviews/{review_id}/submit", response_model=ReviewView, responses=CONFLICT)
def submit_review(
    session: SessionDep,
    principal: Reviewing,
    review_id: int = ReviewId,
    body: ReviewSubmit = ReviewSubmit(),
) -> ReviewView:
    """Submit: the ``answers`` given are saved (all or none), the final score is added up and
    counts for the call's KPIs from now on. A re-evaluation supersedes the review it revises
    (kept, no longer counted) and awaits the agent's answer afresh."""
    answers = {k: workflow.Choice(a.decision, a.reason) for k, a in body.answers.items()}
    return workflow.submit(session, review_id, principal, answers)


@router.post("/v1/reviews/{review_id}/acknowledge", response_model=ReviewView, responses=CONFLICT)
def acknowledge_review(
    session: SessionDep, principal: AnswerReview, review_id: int = ReviewId
) -> ReviewView:
    """The call's agent accepts the submitted review."""
    return workflow.acknowledge(session, review_id, principal)


@router.post("/v1/reviews/{review_id}/dispute", response_model=ReviewView, responses=CONFLICT)
def dispute_review(
    body: DisputeCreate,
    session: SessionDep,
    settings: SettingsDep,
    principal: AnswerReview,
    review_id: int = ReviewId,
) -> ReviewView:
    """The call's agent disputes items, within ``SPEECHQA_DISPUTE_DAYS`` of submission."""
    review = workflow.dispute(
        session, review_id, principal, body.items, body.comment, settings.dispute_days
    )
    return review


@router.post("/v1/reviews/{review_id}/resolve", response_model=ReviewView, responses=CONFLICT)
def resolve_dispute(
    body: Resolution, session: SessionDep, principal: Resolve, review_id: int = ReviewId
) -> ReviewView:
    """A lead upholds the review or adjusts items, with a reason."""
    answers = {k: (a.decision, a.reason) for k, a in body.answers.items()}
    review = workflow.resolve(session, review_id, principal, body.outcome, body.reason, answers)
    return review


@router.get("/v1/rules/quality", response_model=RuleQuality)
def rule_quality(
    session: SessionDep, principal: TeamReports, ruleset: str | None = None
) -> RuleQuality:
    """Each scorecard item's automatic answers judged by reviewers: agreement, precision and
    recall over the submitted reviews the caller may see."""
    return RuleQuality(items=quality.item_quality(session, principal, ruleset))
