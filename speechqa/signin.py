"""Signing in to the web app: a browser session that stands for an API key.

A person signs in with their API key once; the browser then holds a random session token in a
cookie (never in a URL), and the database holds only its hash, the key it stands for, a CSRF
token for the session's forms, and when it expires. Every request checks the key again, so
revoking or expiring the key ends its browser sessions at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from speechqa import access
from speechqa.access import Action
from speechqa.apikeys import Principal, authenticate, principal_of
from speechqa.errors import Forbidden, Unauthorized
from speechqa.storage.tables import ApiKey, WebSession, utcnow


@dataclass(frozen=True)
class SignedIn:
    principal: Principal
    csrf: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(session: Session, key: str, hours: float) -> tuple[str, SignedIn]:
    """A new browser session for ``key`` (Unauthorized for a wrong key): (token, who)."""
    principal = authenticate(session, key.strip())
    _may_use_web(principal)
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at < now))  # tidy up
    session.add(
        WebSession(
            token_hash=_hash(token),
            key_id=principal.key_id,
            csrf=csrf,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    return token, SignedIn(principal, csrf)


def resume(session: Session, token: str | None) -> SignedIn:
    """Who holds the browser session ``token``; Unauthorized when there is none, it expired, or
    its key was revoked."""
    if not token:
        raise Unauthorized("Sign in to continue.")
    row = session.get(WebSession, _hash(token))
    if row is None:
        raise Unauthorized("Sign in to continue.")
    if row.expires_at <= utcnow():
        raise Unauthorized("Your session has expired. Sign in again.")
    principal = principal_of(session, session.get(ApiKey, row.key_id))
    _may_use_web(principal)
    return SignedIn(principal, row.csrf)


def _may_use_web(principal: Principal) -> None:
    """The web app is for people: an ingest key (an upstream system's) gets no session."""
    if not access.may(principal, Action.USE_WEB):
        raise Forbidden(
            "This key is for submitting calls (ingest): it cannot sign in to the "
            "web app. Sign in with your own key."
        )


def sign_out(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == _hash(token)))


def check_csrf(expected: str, sent: str | None) -> None:
    """Forbidden unless a form carries its session's CSRF token."""
    if not sent or not secrets.compare_digest(sent, expected):
        raise Forbidden(
            "The form came without this session's token (it may be old): reload "
            "the page and try again."
        )
