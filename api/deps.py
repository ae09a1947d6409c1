"""FastAPI dependencies: settings, database session, Redis, and the caller's API key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from redis import Redis
from sqlalchemy.orm import Session

from speechqa.apikeys import Principal, Scope, authenticate
from speechqa.settings import Settings
from speechqa.storage.database import session_scope


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


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def require(scope: Scope) -> Callable[..., Principal]:
    """A dependency that authenticates the caller and checks ``scope``."""

    def dependency(request: Request, session: SessionDep) -> Principal:
        principal = authenticate(session, _bearer(request))
        principal.require(scope)
        return principal

    return dependency


Ingest = Annotated[Principal, Depends(require(Scope.INGEST))]
Review = Annotated[Principal, Depends(require(Scope.REVIEW))]
Admin = Annotated[Principal, Depends(require(Scope.ADMIN))]
