"""Users for admins: who holds keys, with which role and teams."""

from __future__ import annotations

from fastapi import APIRouter

from speechqa.users import UserInfo, create_user, list_users

from ..deps import Admin, SessionDep
from ..schemas import ERRORS, ErrorResponse, UserCreate

router = APIRouter(prefix="/v1/users", tags=["users"], responses=ERRORS)


@router.get("", response_model=list[UserInfo])
def get_users(session: SessionDep, _: Admin) -> list[UserInfo]:
    """Every user with their role, teams and agent id."""
    return list_users(session)


@router.post(
    "",
    status_code=201,
    response_model=UserInfo,
    responses={409: {"model": ErrorResponse, "description": "A user with that name exists"}},
)
def post_user(body: UserCreate, session: SessionDep, _: Admin) -> UserInfo:
    """Add a user; then give them a key with ``POST /v1/apikeys`` and ``"user": name``."""
    return create_user(
        session,
        body.name,
        body.role,
        teams=body.teams,
        agent_id=body.agent_id,
        time_zone=body.time_zone,
    )
