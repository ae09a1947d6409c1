"""Sending deliveries: claiming the due ones, one attempt at a time, and the delivery log.

A delivery is ``pending`` until an attempt gets a 2xx answer (``succeeded``) or its attempts
run out (``failed``). Each attempt is a row in the log with its time, status code or error and
duration; a failed attempt makes the next one due after ``webhook_backoff_s * 2**(n-1)``.

Several dispatchers, on several machines, may look for due deliveries at once: each claims them
with a conditional UPDATE (due, and not claimed by someone else within the claim timeout), so a
delivery is queued by one only. The attempt itself takes the delivery with another conditional
UPDATE, so that two jobs for it never both send; the attempt pushes the due time past the claim
timeout, so a worker that dies mid-attempt leaves a delivery that comes due again by itself.
A succeeded or failed delivery is never sent again, unless an admin resends it (a new round).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.orm import Session

from speechqa import __version__
from speechqa.errors import Conflict, InvalidInput, NotFound
from speechqa.settings import Settings
from speechqa.storage.database import session_scope
from speechqa.storage.tables import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookMessage,
    utcnow,
)
from speechqa.webhooks import endpoints, signing, targets

MAX_ERROR = 500
INTERRUPTED = "Interrupted: the worker stopped before the answer was recorded."
"""The error of an attempt logged before its request was sent whose answer never was: a
worker that died mid-attempt (the request may have reached the receiver)."""
IN_PROGRESS = "In progress."


@dataclass(frozen=True)
class AttemptView:
    number: int
    """1, 2, ... within its round (a resend starts again at 1)."""
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


@dataclass(frozen=True)
class DeliveryView:
    id: int
    endpoint_id: int
    message_id: str
    event: str
    status: str
    round_attempts: int
    """Attempts made in the current round."""
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    payload: dict[str, Any]
    attempts: list[AttemptView]
    """Every attempt, every round, oldest first."""


@dataclass(frozen=True)
class DeliveryPage:
    deliveries: list[DeliveryView]
    next_cursor: str | None


@dataclass(frozen=True)
class _Outgoing:
    delivery_id: int
    attempt_id: int
    number: int
    url: str
    message_id: str
    body: str
    secrets: list[str]


@dataclass(frozen=True)
class _Answer:
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def claim_due(session: Session, lease_s: float, limit: int = 100) -> list[int]:
    """Claim up to ``limit`` due deliveries for ``lease_s`` seconds; the ids this caller got."""
    now = utcnow()
    d = WebhookDelivery
    due = (
        d.status == DeliveryStatus.PENDING,
        d.next_attempt_at <= now,
        or_(d.claimed_until.is_(None), d.claimed_until <= now),
    )
    ids = list(session.scalars(select(d.id).where(*due).order_by(d.next_attempt_at).limit(limit)))
    if not ids:
        return []
    # The conditions again: a row another dispatcher claimed meanwhile is not claimed twice.
    claimed = session.scalars(
        update(d)
        .where(d.id.in_(ids), *due)
        .values(claimed_until=now + timedelta(seconds=lease_s))
        .returning(d.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(claimed)


def attempt(settings: Settings, delivery_id: int) -> str:
    """Make the delivery's next attempt if it is due, and record it. Returns what happened:
    succeeded, retrying, failed, or why nothing was sent."""
    with session_scope(settings) as session:
        outgoing = _take(session, settings, delivery_id)
    if isinstance(outgoing, str):
        return outgoing
    answer = _send(outgoing, settings)
    with session_scope(settings) as session:
        return _record(session, settings, outgoing, answer)


def _take(session: Session, settings: Settings, delivery_id: int) -> _Outgoing | str:
    now = utcnow()
    row = session.get(WebhookDelivery, delivery_id)
    if row is None:
        return "gone"
    if row.status != DeliveryStatus.PENDING:
        return f"already {row.status}"
    if row.next_attempt_at is None or row.next_attempt_at > now:
        return "not due"
    endpoint = session.get(WebhookEndpoint, row.endpoint_id)
    message = session.get(WebhookMessage, row.message_id)
    assert endpoint is not None and message is not None  # foreign keys keep them
    if endpoint.deleted_at is not None or row.attempts >= settings.webhook_max_attempts:
        row.status, row.next_attempt_at, row.claimed_until = DeliveryStatus.FAILED, None, None
        if endpoint.deleted_at is not None:
            row.last_error = "The endpoint was deleted."
        return "failed"
    # Taken only if no other job took it since it was read; due again after the claim timeout
    # should this worker stop before it records the attempt.
    lease = timedelta(seconds=settings.webhook_claim_timeout_s + settings.webhook_timeout_s)
    taken = session.connection().execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == row.id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.attempts == row.attempts,
            WebhookDelivery.next_attempt_at <= now,
        )
        .values(attempts=row.attempts + 1, next_attempt_at=now + lease, claimed_until=None)
    )
    if taken.rowcount != 1:
        return "taken by another worker"
    # The attempt is in the log before its request is sent, completed once answered: a worker
    # that dies mid-attempt leaves it there, shown as interrupted.
    logged = WebhookAttempt(
        delivery_id=row.id,
        number=row.attempts + 1,
        at=now,
        status_code=None,
        error=INTERRUPTED,
        duration_ms=0,
    )
    session.add(logged)
    session.flush()
    body = json.dumps(message.payload, separators=(",", ":"), ensure_ascii=False)
    return _Outgoing(
        row.id,
        logged.id,
        row.attempts + 1,
        endpoint.url,
        message.id,
        body,
        endpoints.signing_secrets(endpoint, now),
    )


def _send(outgoing: _Outgoing, settings: Settings) -> _Answer:
    """POST the message to the address its host resolves to now, once that address is checked
    (not private, loopback or metadata, unless allowed); never raises for what the receiver or
    the network does. Redirects are not followed: a 3xx answer is a failed attempt."""
    timeout_s = settings.webhook_timeout_s
    at = utcnow()
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": f"speechqa-webhooks/{__version__}",
        **signing.headers(outgoing.message_id, timestamp, outgoing.body, outgoing.secrets),
    }
    started = time.perf_counter()
    status_code: int | None = None
    error: str | None = None
    try:
        target = targets.resolve(outgoing.url, settings)
        url = httpx.URL(outgoing.url)
        pinned = url.copy_with(host=str(target.address))  # connect to the address checked
        headers["host"] = url.netloc.decode("ascii").rpartition("@")[2]
        extensions = {"sni_hostname": target.host} if url.scheme == "https" else {}
        with (
            httpx.Client(timeout=timeout_s, follow_redirects=False) as client,
            client.stream(
                "POST",
                pinned,
                content=outgoing.body.encode(),
                headers=headers,
                extensions=extensions,
            ) as response,
        ):  # the answer's body is not read
            status_code = response.status_code
    except targets.Refused as exc:
        error = f"Not sent: {exc}."[:MAX_ERROR]
    except httpx.TimeoutException:
        error = f"No answer within {timeout_s:g} s."
    except OSError as exc:  # the name does not resolve
        error = f"The host cannot be resolved: {exc}"[:MAX_ERROR]
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
    duration_ms = round((time.perf_counter() - started) * 1000)
    if status_code is not None and not 200 <= status_code < 300:
        error = f"The receiver answered HTTP {status_code}."
    return _Answer(at, status_code, error, duration_ms)


def _record(session: Session, settings: Settings, outgoing: _Outgoing, answer: _Answer) -> str:
    logged = session.get(WebhookAttempt, outgoing.attempt_id)
    if logged is not None:  # else pruned, or deleted with its endpoint, while the request ran
        logged.at, logged.status_code = answer.at, answer.status_code
        logged.error, logged.duration_ms = answer.error, answer.duration_ms
    row = session.get(WebhookDelivery, outgoing.delivery_id)
    if row is None or row.status != DeliveryStatus.PENDING or row.attempts != outgoing.number:
        return "recorded"  # deleted, or its endpoint deleted, while the request ran
    row.last_status_code, row.last_error, row.claimed_until = answer.status_code, answer.error, None
    if answer.ok:
        row.status, row.next_attempt_at = DeliveryStatus.SUCCEEDED, None
        return "succeeded"
    if outgoing.number >= settings.webhook_max_attempts:
        row.status, row.next_attempt_at = DeliveryStatus.FAILED, None
        return "failed"
    delay = settings.webhook_backoff_s * 2 ** (outgoing.number - 1)
    row.next_attempt_at = utcnow() + timedelta(seconds=delay)
    return "retrying"


def deliveries(
    session: Session,
    endpoint_id: int,
    *,
    limit: int = 50,
    cursor: str | None = None,
    status: DeliveryStatus | None = None,
) -> DeliveryPage:
    """An endpoint's delivery log, newest first, a page at a time."""
    endpoints.active(session, endpoint_id)
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if cursor:
        query = query.where(WebhookDelivery.id < _decode(cursor))
    rows = list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    views = _views(session, rows)
    return DeliveryPage(views, _encode(rows[-1].id) if more else None)


def resend(session: Session, delivery_id: int) -> DeliveryView:
    """Queue a finished delivery again: a new round of attempts; the log keeps the old ones."""
    row = session.get(WebhookDelivery, delivery_id)
    if row is None:
        raise NotFound(f"No webhook delivery {delivery_id}.")
    try:
        endpoints.active(session, row.endpoint_id)
    except NotFound:
        raise NotFound(f"No webhook delivery {delivery_id}: its endpoint was deleted.") from None
    if row.status == DeliveryStatus.PENDING:
        raise Conflict(
            "The delivery is still pending; it is sent when its next attempt is due.",
            details={"status": row.status},
        )
    row.status, row.attempts = DeliveryStatus.PENDING, 0
    row.next_attempt_at, row.claimed_until = utcnow(), None
    session.flush()
    return _views(session, [row])[0]


def prune(session: Session, older_than: datetime) -> int:
    """Delete messages (with their deliveries and attempts) older than ``older_than`` that
    have nothing pending; the number deleted."""
    pending = exists().where(
        WebhookDelivery.message_id == WebhookMessage.id,
        WebhookDelivery.status == DeliveryStatus.PENDING,
    )
    old = select(WebhookMessage.id).where(WebhookMessage.created_at < older_than, ~pending)
    ids = list(session.scalars(old.limit(10_000)))
    if ids:
        session.execute(delete(WebhookMessage).where(WebhookMessage.id.in_(ids)))
    return len(ids)


def _views(session: Session, rows: list[WebhookDelivery]) -> list[DeliveryView]:
    ids = [r.id for r in rows]
    messages = {
        m.id: m
        for m in session.scalars(
            select(WebhookMessage).where(WebhookMessage.id.in_({r.message_id for r in rows}))
        )
    }
    log: dict[int, list[AttemptView]] = {i: [] for i in ids}
    by_id = {r.id: r for r in rows}
    now = utcnow()
    query = select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids))
    for a in session.scalars(query.order_by(WebhookAttempt.id)):
        error = a.error
        if error == INTERRUPTED and _running(by_id[a.delivery_id], a.number, now):
            error = IN_PROGRESS
        log[a.delivery_id].append(AttemptView(a.number, a.at, a.status_code, error, a.duration_ms))
    return [
        DeliveryView(
            id=r.id,
            endpoint_id=r.endpoint_id,
            message_id=r.message_id,
            event=messages[r.message_id].event,
            status=r.status,
            round_attempts=r.attempts,
            next_attempt_at=r.next_attempt_at,
            last_status_code=r.last_status_code,
            last_error=r.last_error,
            created_at=r.created_at,
            payload=messages[r.message_id].payload,
            attempts=log[r.id],
        )
        for r in rows
    ]


def _running(row: WebhookDelivery, number: int, now: datetime) -> bool:
    """Whether attempt ``number`` of the delivery may still be waiting for its answer: it is
    the current one, and its claim (pushed past the request's timeout) has not run out."""
    return (
        row.status == DeliveryStatus.PENDING
        and row.attempts == number
        and row.next_attempt_at is not None
        and row.next_attempt_at > now
    )


def _encode(delivery_id: int) -> str:
    return base64.urlsafe_b64encode(f"d:{delivery_id}".encode()).decode()


def _decode(cursor: str) -> int:
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "d" and value.isdigit():
            return int(value)
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise InvalidInput("The cursor is not one this API returned.", details={"parameter": "cursor"})
