"""API keys: created once, shown once, stored as a SHA-256 hash; listed, revoked, expiring.

Keys are 256 random bits, so a plain SHA-256 (not a slow password hash) is the right store: it
cannot be brute-forced and lets every request be checked with one indexed lookup. When a key was
last used is recorded to the minute, so reads do not each cost a database write.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from speechqa.errors import InvalidInput, NotFound, Unauthorized
from speechqa.storage.tables import ApiKey, User, utcnow

KEY_PREFIX = "sqa_"
PREFIX_CHARS = len(KEY_PREFIX) + 6
"""How much of a key is stored in clear (and listed) to tell keys apart."""
LAST_USED_RESOLUTION = timedelta(minutes=1)


class Scope(enum.StrEnum):
    INGEST = "ingest"
    AGENT = "agent"
    """Read one's own calls and scores."""
    REVIEW = "review"
    COACH = "coach"
    LEAD = "lead"
    """Settle disputes, change rulesets."""
    ADMIN = "admin"


# What holding a scope grants: admin implies all; lead implies coach; coach implies review.
_IMPLIES: dict[Scope, set[Scope]] = {
    Scope.ADMIN: set(Scope),
    Scope.LEAD: {Scope.LEAD, Scope.COACH, Scope.REVIEW},
    Scope.COACH: {Scope.COACH, Scope.REVIEW},
    Scope.REVIEW: {Scope.REVIEW},
    Scope.AGENT: {Scope.AGENT},
    Scope.INGEST: {Scope.INGEST},
}


class Role(enum.StrEnum):
    """What a user is; each role holds the scope of the same name (reviewer: review)."""

    INGEST = "ingest"
    AGENT = "agent"
    REVIEWER = "reviewer"
    COACH = "coach"
    LEAD = "lead"
    ADMIN = "admin"

    @property
    def scope(self) -> Scope:
        return Scope.REVIEW if self is Role.REVIEWER else Scope(self.value)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key, its user (if any), what it may do and which calls it sees."""

    key_id: int
    name: str | None
    scopes: frozenset[Scope]
    user: str | None = None
    teams: frozenset[str] | None = None
    """The teams whose calls it sees; None: every team."""
    agent_id: str | None = None
    """For an agent: the only agent whose calls it sees."""
    time_zone: str | None = None
    """The user's time zone setting (pages show times in it)."""

    @property
    def who(self) -> str:
        """How the audit trail names this caller."""
        return self.user or f"key:{self.key_id}"


def parse_scopes(values: list[str]) -> list[Scope]:
    scopes: list[Scope] = []
    for raw in values:
        for part in raw.split(","):
            part = part.strip().lower()
            if not part:
                continue
            try:
                scopes.append(Scope(part))
            except ValueError:
                known = ", ".join(s.value for s in Scope)
                raise InvalidInput(f"Unknown scope {part!r}; known scopes: {known}.") from None
    if not scopes:
        raise InvalidInput("Give at least one scope.")
    return sorted(set(scopes))


def prefix_of(key: str) -> str:
    """The stored, listed part of a key (of anything sent as one: its first characters)."""
    return key[:PREFIX_CHARS]


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    session: Session,
    scopes: list[Scope],
    name: str | None = None,
    expires_at: datetime | None = None,
    user: str | None = None,
) -> str:
    """Store a new key and return it in clear text (the only time it exists in clear)."""
    return issue_key(session, scopes, name, expires_at, user)[0]


def issue_key(
    session: Session,
    scopes: list[Scope],
    name: str | None = None,
    expires_at: datetime | None = None,
    user: str | None = None,
) -> tuple[str, KeyInfo]:
    """Store a new key; return it in clear text with what is stored about it.

    A key for a ``user`` acts with that user's role and teams (``scopes`` are then ignored).
    """
    owner = None
    if user is not None:
        owner = session.scalar(select(User).where(User.name == user))
        if owner is None:
            raise NotFound(f"No user {user!r}.")
        scopes = [Role(owner.role).scope]
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        user_id=owner.id if owner is not None else None,
        name=name,
        prefix=prefix_of(key),
        key_hash=_hash(key),
        scopes=[s.value for s in scopes],
        expires_at=expires_at,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return key, _info(row)


@dataclass(frozen=True)
class KeyInfo:
    """A stored key as an admin sees it (never the key itself)."""

    id: int
    name: str | None
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool
    """Neither revoked nor expired."""


@dataclass(frozen=True)
class NewKey(KeyInfo):
    """A key just issued: the only time the key itself is shown."""

    key: str
    """Shown once: store it now."""


def shown_once(key: str, info: KeyInfo) -> NewKey:
    """The answer to issuing a key: its stored view with the key itself."""
    return NewKey(**vars(info), key=key)


def list_keys(session: Session, *, include_revoked: bool = False) -> list[KeyInfo]:
    query = select(ApiKey).order_by(ApiKey.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return [_info(row) for row in session.scalars(query)]


def revoke_key(session: Session, key_id: int) -> KeyInfo:
    """Revoke a key at once (revoking twice keeps the first time)."""
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"No API key with id {key_id}.")
    row.revoked_at = row.revoked_at or utcnow()
    session.flush()
    return _info(row)


def _info(row: ApiKey) -> KeyInfo:
    expires_at = _aware(row.expires_at) if row.expires_at else None
    revoked_at = _aware(row.revoked_at) if row.revoked_at else None
    return KeyInfo(
        row.id,
        row.name,
        row.prefix,
        list(row.scopes),
        _aware(row.created_at),
        _aware(row.last_used_at) if row.last_used_at else None,
        expires_at,
        revoked_at,
        revoked_at is None and not _past(expires_at),
    )


def _aware(when: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _past(when: datetime | None) -> bool:
    return when is not None and _aware(when) <= utcnow()


def authenticate(session: Session, key: str | None) -> Principal:
    """Return the principal for ``key`` or raise Unauthorized."""
    if not key:
        raise Unauthorized("An API key is required: send 'Authorization: Bearer <key>'.")
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == _hash(key)))
    return principal_of(session, row)


def principal_of(session: Session, row: ApiKey | None) -> Principal:
    """The principal of a stored key (Unauthorized when it is revoked or expired); notes its
    use, to the minute."""
    if row is None or row.revoked_at is not None:
        raise Unauthorized("The API key is not valid.")
    if _past(row.expires_at):
        raise Unauthorized("The API key has expired.")
    user = session.get(User, row.user_id) if row.user_id is not None else None
    now = utcnow()
    if row.last_used_at is None or now - _aware(row.last_used_at) >= LAST_USED_RESOLUTION:
        row.last_used_at = now
    if user is None:
        granted = frozenset(g for s in row.scopes for g in _IMPLIES[Scope(s)])
        return Principal(key_id=row.id, name=row.name, scopes=granted)
    return user_principal(user, key_id=row.id, name=row.name)


def user_principal(user: User, *, key_id: int = 0, name: str | None = None) -> Principal:
    """What ``user`` may do and see, as any key of theirs would (``key_id`` 0: no key; for
    asking what a person named in a queue or a session may see)."""
    return Principal(
        key_id=key_id,
        name=name,
        scopes=frozenset(_IMPLIES[Role(user.role).scope]),
        user=user.name,
        teams=frozenset(user.teams) if user.teams else None,
        agent_id=user.agent_id if user.role == Role.AGENT else None,
        time_zone=user.time_zone,
    )
