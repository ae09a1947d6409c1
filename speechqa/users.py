"""Users: who holds a key, with which role, limited to which teams.

Roles: ``ingest`` (an upstream system), ``agent`` (their own calls and scores), ``reviewer``,
``coach``, ``lead`` (settles disputes, changes rulesets), ``admin``. A reviewer, coach or lead
may be limited to teams; an agent is tied to one agent id. Keys made before users existed keep
their scopes and see every team.

A name is stored in NFC, holds no invisible character, and does not look like another user's
(``lisa``, ``Lisa``, and the same with a Cyrillic i or in fullwidth letters are one name;
see :mod:`speechqa.text`), so audit trails and reviewer lists name one person each.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from speechqa.apikeys import Principal, Role, user_principal
from speechqa.errors import Conflict, InvalidInput, NotFound
from speechqa.storage.tables import Call, User
from speechqa.text import clean_name, skeleton
from speechqa.zones import check_zone


@dataclass(frozen=True)
class UserInfo:
    id: int
    name: str
    role: str
    teams: list[str]
    agent_id: str | None
    time_zone: str | None = None
    """The zone the user sees times in; None: their browser's (else UTC)."""


def create_user(
    session: Session,
    name: str,
    role: str,
    *,
    teams: Sequence[str] = (),
    agent_id: str | None = None,
    time_zone: str | None = None,
) -> UserInfo:
    """Add a user; an agent needs the agent id whose calls are theirs."""
    try:
        parsed = Role(role)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise InvalidInput(f"Unknown role {role!r}; roles are {known}.") from None
    name = clean_name(name, "user name")
    if not name or len(name) > 200:
        raise InvalidInput("A user's name is 1 to 200 characters.")
    if parsed is Role.AGENT and not agent_id:
        raise InvalidInput("An agent user needs the agent id whose calls are theirs.")
    _refuse_look_alike(session, name)
    user = User(
        name=name,
        role=parsed.value,
        teams=sorted(set(teams)),
        agent_id=agent_id if parsed is Role.AGENT else None,
        time_zone=check_zone(time_zone) if time_zone else None,
    )
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise Conflict(f"A user named {name!r} exists.") from None
    return _info(user)


def _refuse_look_alike(session: Session, name: str) -> None:
    """Conflict if an existing user's name looks the same as ``name`` (same skeleton)."""
    wanted = skeleton(name)
    for existing in session.scalars(select(User.name)):
        if skeleton(existing) == wanted:
            message = f"A user named {existing!r} exists"
            if existing != name:
                message += f", and {name!r} would look the same in reviews and audit trails"
            raise Conflict(message + ".", details={"existing": existing})


def known_teams(session: Session) -> list[str]:
    """Every team a call or a user names, sorted (a new user's team is checked against it)."""
    teams = set(session.scalars(select(Call.team).where(Call.team.is_not(None)).distinct()))
    for user_teams in session.scalars(select(User.teams)):
        teams.update(user_teams or [])
    return sorted(t for t in teams if t)


def update_user(session: Session, name: str, *, time_zone: str | None) -> UserInfo:
    """Change a user's time zone (an IANA name; empty or None: their browser's)."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"No user {name!r}.")
    user.time_zone = check_zone(time_zone) if time_zone else None
    session.flush()
    return _info(user)


def principals(session: Session, names: Iterable[str]) -> dict[str, Principal]:
    """The named users as principals (what each may do and see); unknown names left out."""
    users = session.scalars(select(User).where(User.name.in_(list(names))))
    return {u.name: user_principal(u) for u in users}


def list_users(session: Session) -> list[UserInfo]:
    return [_info(u) for u in session.scalars(select(User).order_by(User.name))]


def _info(user: User) -> UserInfo:
    return UserInfo(
        user.id, user.name, user.role, list(user.teams or []), user.agent_id, user.time_zone
    )
