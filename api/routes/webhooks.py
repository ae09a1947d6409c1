"""Webhook endpoints for admins: register, list, delete, rotate the secret, the delivery log,
resend."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from speechqa.storage.tables import DeliveryStatus
from speechqa.webhooks import delivery, endpoints

from ..deps import MAX_ID, Admin, SessionDep, SettingsDep
from ..schemas import ERRORS, ErrorResponse, WebhookCreate

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=ERRORS)
EndpointId = Annotated[int, Path(ge=1, le=MAX_ID)]
DeliveryId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("", status_code=201, response_model=endpoints.EndpointWithSecret)
def create_webhook(
    body: WebhookCreate, session: SessionDep, principal: Admin, settings: SettingsDep
) -> endpoints.EndpointWithSecret:
    """Register a URL for events; the answer is the only time the secret is shown. A URL on a
    private, loopback, link-local or metadata address is a 422 unless
    ``SPEECHQA_WEBHOOK_ALLOWED_NETWORKS`` admits it."""
    view, secret = endpoints.register(
        session, body.url, body.events, body.description, principal.who, settings
    )
    return endpoints.shown_once(view, secret)


@router.get("", response_model=list[endpoints.EndpointView])
def list_webhooks(session: SessionDep, _: Admin) -> list[endpoints.EndpointView]:
    return endpoints.list_endpoints(session)


@router.get("/{endpoint_id}", response_model=endpoints.EndpointView)
def get_webhook(endpoint_id: EndpointId, session: SessionDep, _: Admin) -> endpoints.EndpointView:
    return endpoints.get(session, endpoint_id)


@router.delete("/{endpoint_id}", status_code=204, response_class=Response)
def delete_webhook(endpoint_id: EndpointId, session: SessionDep, _: Admin) -> Response:
    """No more deliveries to the URL; pending ones are stopped (marked failed)."""
    endpoints.delete(session, endpoint_id)
    return Response(status_code=204)


@router.post("/{endpoint_id}/rotate-secret", response_model=endpoints.EndpointWithSecret)
def rotate_webhook_secret(
    endpoint_id: EndpointId, session: SessionDep, _: Admin
) -> endpoints.EndpointWithSecret:
    """A new secret, shown once; the previous one keeps signing too for 24 hours."""
    return endpoints.shown_once(*endpoints.rotate_secret(session, endpoint_id))


@router.get("/{endpoint_id}/deliveries", response_model=delivery.DeliveryPage)
def list_deliveries(
    endpoint_id: EndpointId,
    session: SessionDep,
    _: Admin,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    status: DeliveryStatus | None = None,
) -> delivery.DeliveryPage:
    """The delivery log, newest first: each message's state and every attempt."""
    return delivery.deliveries(session, endpoint_id, limit=limit, cursor=cursor, status=status)


@router.post(
    "/deliveries/{delivery_id}/resend",
    status_code=202,
    response_model=delivery.DeliveryView,
    responses={409: {"model": ErrorResponse, "description": "The delivery is still pending"}},
)
def resend_delivery(
    delivery_id: DeliveryId, session: SessionDep, _: Admin
) -> delivery.DeliveryView:
    """Send a succeeded or failed delivery again: a new round of attempts (the log keeps the
    earlier ones)."""
    return delivery.resend(session, delivery_id)
