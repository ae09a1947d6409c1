"""Webhook endpoints for admins: register, list, delete, rotate the secret, the delivery log,
resend."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from api.deps import MAX_ID, Admin, SessionDep, SettingsDep
from api.schemas import ERRORS, ErrorResponse
from api.webhook_schemas import (
    WebhookCreate,
    WebhookDeliveries,
    WebhookDeliveryRead,
    WebhookRead,
    WebhookWithSecret,
)
from speechqa.storage.tables import DeliveryStatus
from speechqa.webhooks import delivery, endpoints

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=ERRORS)
EndpointId = Annotated[int, Path(ge=1, le=MAX_ID)]
DeliveryId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("", status_code=201, response_model=WebhookWithSecret)
def create_webhook(
    body: WebhookCreate, session: SessionDep, principal: Admin, settings: SettingsDep
) -> Any:
    """Register a URL for events; the answer is the only time the secret is shown. A URL on a
    private, loopback, link-local or metadata address is a 422 unless
    ``SPEECHQA_WEBHOOK_ALLOWED_NETWORKS`` admits it."""
    view, secret = endpoints.register(session, body.url, body.events, body.description,
                                      principal.who, settings)  # fmt: skip
    return {**asdict(view), "secret": secret}


@router.get("", response_model=list[WebhookRead])
def list_webhooks(session: SessionDep, _: Admin) -> Any:
    return [asdict(e) for e in endpoints.list_endpoints(session)]


@router.get("/{endpoint_id}", response_model=WebhookRead)
def get_webhook(endpoint_id: EndpointId, session: SessionDep, _: Admin) -> Any:
    return asdict(endpoints.get(session, endpoint_id))


@router.delete("/{endpoint_id}", status_code=204, response_class=Response)
def delete_webhook(endpoint_id: EndpointId, session: SessionDep, _: Admin) -> Response:
    """No more deliveries to the URL; pending ones are stopped (marked failed)."""
    endpoints.delete(session, endpoint_id)
    return Response(status_code=204)


@router.post("/{endpoint_id}/rotate-secret", response_model=WebhookWithSecret)
def rotate_webhook_secret(endpoint_id: EndpointId, session: SessionDep, _: Admin) -> Any:
    """A new secret, shown once; the previous one keeps signing too for 24 hours."""
    view, secret = endpoints.rotate_secret(session, endpoint_id)
    return {**asdict(view), "secret": secret}


@router.get("/{endpoint_id}/deliveries", response_model=WebhookDeliveries)
def list_deliveries(
    endpoint_id: EndpointId,
    session: SessionDep,
    _: Admin,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    status: DeliveryStatus | None = None,
) -> Any:
    """The delivery log, newest first: each message's state and every attempt."""
    page = delivery.deliveries(session, endpoint_id, limit=limit, cursor=cursor, status=status)
    return {"deliveries": [asdict(d) for d in page.deliveries], "next_cursor": page.next_cursor}


@router.post(
    "/deliveries/{delivery_id}/resend",
    status_code=202,
    response_model=WebhookDeliveryRead,
    responses={409: {"model": ErrorResponse, "description": "The delivery is still pending"}},
)
def resend_delivery(delivery_id: DeliveryId, session: SessionDep, _: Admin) -> Any:
    """Send a succeeded or failed delivery again: a new round of attempts (the log keeps the
    earlier ones)."""
    return asdict(delivery.resend(session, delivery_id))
