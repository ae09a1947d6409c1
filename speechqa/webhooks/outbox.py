"""The outbox: an event is written in the transaction of the change it reports.

``emit`` adds the message and one delivery per endpoint subscribed to the event, in the
caller's session; nothing is sent here. If the transaction rolls back, the event is gone with
it; once it commits, a webhook worker finds the deliveries due and sends them
(:mod:`speechqa.webhooks.delivery`), so an event is announced if and only if it happened, and
a receiver that is down never holds up the change.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from speechqa.storage.tables import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookMessage,
    utcnow,
)
from speechqa.webhooks.events import EVENTS
from speechqa.webhooks.signing import new_message_id


def emit(session: Session, event: str, data: dict[str, Any]) -> None:
    """Write ``event`` with ``data`` for every active endpoint subscribed to it (nothing when
    none is); it is sent after the caller's transaction commits."""
    if event not in EVENTS:
        raise ValueError(f"{event!r} is not a webhook event; the events are {', '.join(EVENTS)}")
    endpoints = session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.deleted_at.is_(None))
    ).all()
    targets = [e.id for e in endpoints if event in e.events]
    if not targets:
        return
    now = utcnow()
    body = {"type": event, "timestamp": _iso(now), "data": data}
    message = WebhookMessage(
        id=new_message_id(now),
        event=event,
        payload=json.loads(json.dumps(body, default=_jsonable)),
        created_at=now,
    )
    session.add(message)
    session.flush()
    session.add_all(
        WebhookDelivery(
            endpoint_id=endpoint_id,
            message_id=message.id,
            attempts=0,
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            created_at=now,
        )
        for endpoint_id in targets
    )
    session.flush()


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _jsonable(value: object) -> object:
    """Datetimes and dates in event data become ISO 8601 text."""
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} in webhook event data is not JSON")
