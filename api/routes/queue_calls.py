"""Adding chosen calls to a review queue (a lead's bulk action from the calls list)."""

from __future__ import annotations

from fastapi import APIRouter

from speechqa.calls import bulk

from ..deps import MAX_ID, ManageQueues, SessionDep
from ..schemas import ERRORS, BulkCalls

router = APIRouter(tags=["queues"], responses=ERRORS)


@router.post("/v1/queues/{queue_id}/calls", response_model=bulk.BulkResult)
def add_calls(
    queue_id: int, body: BulkCalls, session: SessionDep, principal: ManageQueues
) -> bulk.BulkResult:
    """Deal these calls to the queue's reviewers in turn (each to one who may see it and has
    not reviewed it); calls already in the queue or outside its teams are skipped."""
    if not 1 <= queue_id <= MAX_ID:
        queue_id = 0
    return bulk.add_to_queue(session, principal, queue_id, body.calls)
