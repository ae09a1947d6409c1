"""FastAPI dependencies: settings, database session, Redis, and the caller's API key.

Authentication runs in a transaction of its own that ends before the route body runs, so a
request never holds two database connections, and an upload holds none while its bytes stream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis import Redis
from sqlalchemy.orm import Session

from api.throttle import FailureLimiter
from speechqa.apikeys import Principal, Scope, authenticate
from speechqa.settings import Settings
from speechqa.storage.database import session_scope

MAX_ID = 2_147_483_647
"""Ids and versions are 32-bit in the database: larger numbers in a request are a 422."""
Version = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Default: the newest.")]


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_session(settings: SettingsDep) -> Iterator[Session]:
    with session_scope(settings) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_redis(request: Request) -> Redis:
    redis: Redis = request.app.state.redis
    return redis


RedisDep = Annotated[Redis, Depends(get_redis)]

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]


def require(*scopes: Scope) -> Callable[..., Principal]:
    """A dependency that authenticates the caller and checks it holds one of ``scopes``."""

    def dependency(request: Request, settings: SettingsDep, credentials: Credentials) -> Principal:
        limiter: FailureLimiter = request.app.state.auth_failures
        client = request.client.host if request.client else "unknown"
        token = credentials.credentials.strip() if credentials else None

        def check() -> Principal:
            with session_scope(settings) as session:
                return authenticate(session, token)

        principal = limiter.attempt(client, token, check)  # wrong keys counted, right ones not
        request.state.key_id = principal.key_id  # for the request's log line
        principal.require_any(*scopes)
        return principal

    return dependency


Ingest = Annotated[Principal, Depends(require(Scope.INGEST))]
Reader = Annotated[Principal, Depends(require(Scope.REVIEW, Scope.AGENT))]
"""Reviewers and up, and agents (who see only their own calls)."""
Review = Annotated[Principal, Depends(require(Scope.REVIEW))]
Coach = Annotated[Principal, Depends(require(Scope.COACH))]
CoachOrAgent = Annotated[Principal, Depends(require(Scope.COACH, Scope.AGENT))]
"""Coaches and up, and agents (who see only their own coaching)."""
Lead = Annotated[Principal, Depends(require(Scope.LEAD))]
Admin = Annotated[Principal, Depends(require(Scope.ADMIN))]
