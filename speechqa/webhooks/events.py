"""The events upstream systems can subscribe to, and the data of the call events.

The set is fixed: an endpoint subscribing to anything else is refused, and so is code emitting
anything else. A call's events carry its ids, outcome and where to read the rest, not the whole
call document (receivers fetch it when they want it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from speechqa.scoring import evaluations
from speechqa.storage.tables import Call, CallStatus

CALL_ANALYZED = "call.analyzed"
CALL_FAILED = "call.failed"
REVIEW_SUBMITTED = "review.submitted"
REVIEW_DISPUTED = "review.disputed"
REVIEW_UPDATED = "review.updated"
COACHING_SESSION_CREATED = "coaching.session.created"
EVENTS = (
    CALL_ANALYZED,
    CALL_FAILED,
    REVIEW_SUBMITTED,
    REVIEW_DISPUTED,
    REVIEW_UPDATED,
    COACHING_SESSION_CREATED,
)


def call_data(session: Session, call: Call) -> dict[str, Any]:
    """A call event's data: ids, status, the score that counts (done) or the reason (failed)."""
    data: dict[str, Any] = {
        "call_id": call.id,
        "external_id": call.external_id,
        "agent_id": call.agent_id,
        "team": call.team,
        "status": str(call.status),
        "status_url": f"/v1/calls/{call.id}/status",
        "url": f"/v1/calls/{call.id}",
    }
    if call.status == CallStatus.DONE:
        row = evaluations.current(session, call.id)
        data["score"] = row.score if row else None
        data["critical_fail"] = row.critical_fail if row else None
        data["ruleset"] = row.ruleset if row else None
        data["ruleset_version"] = row.version if row else None
    else:
        data["reason"] = call.status_reason
    return data
