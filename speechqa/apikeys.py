"""API keys: created once, shown once, stored as a SHA-256 hash.

Keys are 256 random bits, so a plain SHA-256 (not a slow password hash) is the right store: it
cannot be brute-forced and lets every request be checked with one indexed lookup.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from speechqa.errors import Forbidden, InvalidInput, Unauthorized
from speechqa.storage.tables import ApiKey, utcnow

KEY_PREFIX = "sqa_"


class Scope(enum.StrEnum):
    INGEST = "ingest"
    REVIEW = "review"
    COACH = "coach"
    ADMIN = "admin"


# What holding a scope grants: admin implies all; coach implies review.
_IMPLIES: dict[Scope, set[Scope]] = {
    Scope.ADMIN: set(Scope),
    Scope.COACH: {Scope.COACH, Scope.REVIEW},
    Scope.REVIEW: {Scope.REVIEW},
    Scope.INGEST: {Scope.INGEST},
}


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, name and the scopes it grants."""

    key_id: int
    name: str | None
    scopes: frozenset[Scope]

    def require(self, scope: Scope) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"This API key lacks the '{scope}' scope.")


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


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, scopes: list[Scope], name: str | None = None) -> str:
    """Store a new key and return it in clear text (the only time it exists in clear)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            name=name,
            prefix=key[: len(KEY_PREFIX) + 6],
            key_hash=_hash(key),
            scopes=[s.value for s in scopes],
        )
    )
    session.flush()
    return key


def authenticate(session: Session, key: str | None) -> Principal:
    """Return the principal for ``key`` or raise Unauthorized."""
    if not key:
        raise Unauthorized("An API key is required: send 'Authorization: Bearer <key>'.")
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == _hash(key)))
    if row is None or row.revoked_at is not None:
        raise Unauthorized("The API key is not valid.")
    granted: set[Scope] = set()
    for s in row.scopes:
        granted |= _IMPLIES[Scope(s)]
    row.last_used_at = utcnow()
    return Principal(key_id=row.id, name=row.name, scopes=frozenset(granted))
