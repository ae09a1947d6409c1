"""Request and response shapes of the webhook routes (documented in the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from api.schemas import RequestBody


class WebhookCreate(RequestBody):
    url: str = Field(max_length=2000)
    """http or https; receives a POST per event."""
    events: list[Annotated[str, Field(max_length=100)]] = Field(max_length=20)
    """Any of call.analyzed, call.failed, review.submitted, review.disputed,
    coaching.session.created."""
    description: str | None = Field(None, max_length=500)


class WebhookRead(BaseModel):
    id: int
    url: str
    events: list[str]
    description: str | None
    created_by: str
    created_at: datetime
    previous_secret_expires_at: datetime | None
    """After a rotation: until then the previous secret signs deliveries too."""


class WebhookWithSecret(WebhookRead):
    secret: str
    """``whsec_`` + base64 of the key; shown once: store it now."""


class WebhookAttemptRead(BaseModel):
    number: int
    """1, 2, ... within its round (a resend starts again at 1)."""
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class WebhookDeliveryRead(BaseModel):
    id: int
    endpoint_id: int
    message_id: str
    """The ``webhook-id`` header: the same on every attempt of the message."""
    event: str
    status: str
    """pending, succeeded or failed"""
    round_attempts: int
    """Attempts made in the current round."""
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    payload: dict[str, Any]
    """The body sent: type, timestamp, data."""
    attempts: list[WebhookAttemptRead]
    """Every attempt, oldest first."""


class WebhookDeliveries(BaseModel):
    deliveries: list[WebhookDeliveryRead]
    next_cursor: str | None
    """Pass as ``cursor`` for the next page; null on the last page."""
