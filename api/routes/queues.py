"""Review queues: sampling rules, sampling runs, and each reviewer's queue."""

from __future__ import annotations

from fastapi import APIRouter, Path

from speechqa.reviews import queues

from ..deps import MAX_ID, ManageQueues, SessionDep, WorkQueue
from ..schemas import ERRORS, ErrorResponse, MyQueue, QueueCreate, Sampled

router = APIRouter(tags=["reviews"], responses=ERRORS)


@router.post(
    "/v1/queues",
    status_code=201,
    response_model=queues.QueueInfo,
    responses={409: {"model": ErrorResponse, "description": "A queue with that name exists"}},
)
def create_queue(
    body: QueueCreate, session: SessionDep, principal: ManageQueues
) -> queues.QueueInfo:
    """A queue: a sampling rule and the reviewers its calls are dealt to, in turn."""
    return queues.create(session, body.name, body.rule, body.reviewers, principal)


@router.get("/v1/queues", response_model=list[queues.QueueInfo])
def list_queues(session: SessionDep, principal: WorkQueue) -> list[queues.QueueInfo]:
    """The queues over the caller's teams."""
    return queues.list_queues(session, principal)


@router.post("/v1/queues/{queue_id}/sample", response_model=Sampled)
def sample_queue(
    session: SessionDep, principal: ManageQueues, queue_id: int = Path(ge=1, le=MAX_ID)
) -> Sampled:
    """Pick calls by the queue's rule, never one it picked before, and deal them out: each to
    a reviewer of the queue who may see it and has not reviewed it."""
    return Sampled(sampled=queues.sample(session, principal, queue_id))


@router.get("/v1/queues/{queue_id}/progress", response_model=queues.QueueProgress)
def queue_progress(
    session: SessionDep, principal: ManageQueues, queue_id: int = Path(ge=1, le=MAX_ID)
) -> queues.QueueProgress:
    """Per reviewer: calls dealt, reviewed, in progress (a draft open) and remaining."""
    return queues.progress(session, principal, queue_id)


@router.get("/v1/me/queue", response_model=MyQueue)
def my_queue(session: SessionDep, principal: WorkQueue) -> MyQueue:
    """The calls dealt to you that you have not reviewed yet, oldest first."""
    return MyQueue(items=queues.my_queue(session, principal))
