"""API keys for admins: create (shown once), list, revoke."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Path

from speechqa.apikeys import (
    KeyInfo,
    NewKey,
    issue_key,
    list_keys,
    parse_scopes,
    revoke_key,
    shown_once,
)
from speechqa.storage.tables import utcnow

from ..deps import Admin, SessionDep
from ..schemas import ERRORS, ApiKeyCreate, ErrorResponse

router = APIRouter(prefix="/v1/apikeys", tags=["apikeys"], responses=ERRORS)
KeyId = Path(ge=1, le=2_147_483_647)


@router.get("", response_model=list[KeyInfo])
def list_api_keys(session: SessionDep, _: Admin, include_revoked: bool = False) -> list[KeyInfo]:
    """Every key (never the key itself), with its last use, expiry and state."""
    return list_keys(session, include_revoked=include_revoked)


@router.post("", status_code=201, response_model=NewKey)
def create_api_key(body: ApiKeyCreate, session: SessionDep, _: Admin) -> NewKey:
    """Create a key; the answer is the only time the key is shown."""
    scopes = parse_scopes(body.scopes) if body.user is None else []
    expires = utcnow() + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    key, info = issue_key(session, scopes, name=body.name, expires_at=expires, user=body.user)
    return shown_once(key, info)


@router.delete("/{key_id}", response_model=KeyInfo, responses={404: {"model": ErrorResponse}})
def revoke_api_key(session: SessionDep, _: Admin, key_id: int = KeyId) -> KeyInfo:
    """Revoke a key at once."""
    return revoke_key(session, key_id)
