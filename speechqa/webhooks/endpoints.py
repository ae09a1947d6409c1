"""Webhook endpoints: registered by admins, listed, deleted, and their secrets rotated.

An endpoint is a URL (http or https) and the events it wants. Its secret is shown when it is
made and when it is rotated, never again. A rotated-out secret keeps signing beside the new one
for :data:`ROTATION_GRACE`, so receivers can switch without losing a message. A deleted
endpoint gets no new deliveries and its pending ones are stopped; its rows stay as history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from speechqa.errors import InvalidInput, NotFound
from speechqa.settings import Settings, get_settings
from speechqa.storage.tables import DeliveryStatus, WebhookDelivery, WebhookEndpoint, utcnow
from speechqa.webhooks import targets
from speechqa.webhooks.events import EVENTS
from speechqa.webhooks.signing import new_secret

ROTATION_GRACE = timedelta(hours=24)
MAX_URL = 2000
MAX_DESCRIPTION = 500


@dataclass(frozen=True)
class EndpointView:
    id: int
    url: str
    events: list[str]
    description: str | None
    created_by: str
    created_at: datetime
    previous_secret_expires_at: datetime | None
    """Until then the previous secret signs too (after a rotation); None when it does not."""


@dataclass(frozen=True)
class EndpointWithSecret(EndpointView):
    """An endpoint just registered or rotated: the only time its secret is shown."""

    secret: str
    """``whsec_`` + base64 of the key; shown once: store it now."""


def shown_once(view: EndpointView, secret: str) -> EndpointWithSecret:
    """The answer to registering an endpoint or rotating its secret."""
    return EndpointWithSecret(**vars(view), secret=secret)


def register(
    session: Session,
    url: str,
    events: list[str],
    description: str | None,
    by: str,
    settings: Settings | None = None,
) -> tuple[EndpointView, str]:
    """A new endpoint and its secret (the only time it is shown but for a rotation). A URL on a
    private, loopback or metadata address is refused unless the settings allow it."""
    url, events, description = _checked(url, events, description, settings or get_settings())
    endpoint = WebhookEndpoint(
        url=url,
        events=events,
        secret=new_secret(),
        description=description,
        created_by=by,
        created_at=utcnow(),
    )
    session.add(endpoint)
    session.flush()
    return view(endpoint), endpoint.secret


def list_endpoints(session: Session) -> list[EndpointView]:
    query = select(WebhookEndpoint).where(WebhookEndpoint.deleted_at.is_(None))
    return [view(e) for e in session.scalars(query.order_by(WebhookEndpoint.id))]


def get(session: Session, endpoint_id: int) -> EndpointView:
    return view(active(session, endpoint_id))


def delete(session: Session, endpoint_id: int) -> None:
    """No more deliveries to the endpoint; the pending ones are marked failed."""
    endpoint = active(session, endpoint_id)
    endpoint.deleted_at = utcnow()
    session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        .values(
            status=DeliveryStatus.FAILED,
            next_attempt_at=None,
            claimed_until=None,
            last_error="The endpoint was deleted.",
        )
        .execution_options(synchronize_session=False)
    )


def rotate_secret(session: Session, endpoint_id: int) -> tuple[EndpointView, str]:
    """A new secret; the current one keeps signing too for :data:`ROTATION_GRACE`."""
    endpoint = active(session, endpoint_id)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = utcnow() + ROTATION_GRACE
    endpoint.secret = new_secret()
    session.flush()
    return view(endpoint), endpoint.secret


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign a delivery now: the current one, and the previous one in its
    grace period."""
    keys = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        keys.append(endpoint.previous_secret)
    return keys


def active(session: Session, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.deleted_at is not None:
        raise NotFound(f"No webhook endpoint {endpoint_id}.")
    return endpoint


def view(endpoint: WebhookEndpoint) -> EndpointView:
    expires = endpoint.previous_secret_expires_at
    if expires is not None and expires <= utcnow():
        expires = None
    return EndpointView(
        id=endpoint.id,
        url=endpoint.url,
        events=list(endpoint.events),
        description=endpoint.description,
        created_by=endpoint.created_by,
        created_at=endpoint.created_at,
        previous_secret_expires_at=expires,
    )


def _checked(
    url: str, events: list[str], description: str | None, settings: Settings
) -> tuple[str, list[str], str | None]:
    """The input, or InvalidInput listing every problem at once."""
    problems: list[dict[str, Any]] = []
    url = url.strip()
    url_problem = _url_problem(url) or targets.check_registration(url, settings)
    if url_problem:
        problems.append({"field": "url", "problem": url_problem})
    unknown = sorted({e for e in events if e not in EVENTS})
    if unknown:
        named = ", ".join(map(repr, unknown))
        problems.append(
            {
                "field": "events",
                "problem": f"unknown event(s): {named}",
                "unknown": unknown,
                "allowed": list(EVENTS),
            }
        )
    elif not events:
        problems.append({"field": "events", "problem": "name at least one event"})
    if description is not None:
        description = description.strip() or None
    if description and ("\x00" in description or len(description) > MAX_DESCRIPTION):
        problems.append(
            {"field": "description", "problem": f"at most {MAX_DESCRIPTION} characters, no NUL"}
        )
    if problems:
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        raise InvalidInput(f"The webhook is invalid: {summary}.", details=problems)
    return url, [e for e in EVENTS if e in events], description


def _url_problem(url: str) -> str | None:
    if not url or len(url) > MAX_URL:
        return f"give an http or https URL of at most {MAX_URL} characters"
    if any(ord(c) <= 32 or ord(c) == 127 for c in url):
        return "the URL contains spaces or control characters"
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError:
        return "the URL cannot be parsed"
    if parts.scheme not in ("http", "https"):
        return "only http and https URLs are allowed"
    if not parts.hostname:
        return "the URL names no host"
    return None
