"""Stored rulesets: versions are only ever added, and history is kept.

``put`` stores a validated ruleset as a new version (or returns the newest when the text is
unchanged); ``get`` returns a compiled ruleset, compiled once per process and version. The
shipped default ruleset is stored as ``default`` version 1 the first time it is needed.
What a ruleset said about a call is stored by :mod:`speechqa.scoring`.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from speechqa.errors import InvalidInput, NotFound
from speechqa.rules.ruleset import Ruleset, default_ruleset_text, load_ruleset
from speechqa.storage.tables import RulesetVersion

DEFAULT = "default"

_compiled: dict[tuple[str, int, str], Ruleset] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Stored:
    """What ``put`` did: the version the text is stored as, and whether it is new."""

    name: str
    version: int
    created: bool
    rules: int


def put(session: Session, text: str, *, name: str | None = None, by: str | None = None) -> Stored:
    """Validate ``text`` and store it as the next version of its ruleset, noting who did."""
    ruleset = load_ruleset(text)
    if name is not None and ruleset.name != name:
        raise InvalidInput(f"The ruleset file is named {ruleset.name!r}, not {name!r}.")
    latest = _latest_row(session, ruleset.name)
    if latest is not None and latest.source == text:
        return Stored(ruleset.name, latest.version, False, len(ruleset.rules))
    version = (latest.version if latest else 0) + 1
    session.add(RulesetVersion(name=ruleset.name, version=version, source=text, created_by=by))
    session.flush()
    return Stored(ruleset.name, version, True, len(ruleset.rules))


def _latest_row(session: Session, name: str) -> RulesetVersion | None:
    return session.scalar(
        select(RulesetVersion)
        .where(RulesetVersion.name == name)
        .order_by(RulesetVersion.version.desc())
        .limit(1)
    )


def _ensure_default(session: Session) -> None:
    if _latest_row(session, DEFAULT) is None:
        try:
            with session.begin_nested():
                session.add(RulesetVersion(name=DEFAULT, version=1, source=default_ruleset_text()))
        except IntegrityError:
            pass  # another process seeded it at the same moment


def get(session: Session, name: str, version: int | None = None) -> Ruleset:
    """The compiled ruleset ``name`` at ``version`` (default: the newest)."""
    if name == DEFAULT:
        _ensure_default(session)
    query = select(RulesetVersion).where(RulesetVersion.name == name)
    query = (
        query.where(RulesetVersion.version == version)
        if version
        else query.order_by(RulesetVersion.version.desc())
    )
    row = session.scalar(query.limit(1))
    if row is None:
        what = f"version {version} of ruleset" if version else "ruleset"
        raise NotFound(f"No {what} {name!r}.")
    # Keyed by the text too: a process may see two databases (tests, migrations).
    key = (name, row.version, hashlib.sha1(row.source.encode()).hexdigest())
    with _lock:
        compiled = _compiled.get(key)
        if compiled is None:
            compiled = load_ruleset(row.source, version=row.version)
            _compiled[key] = compiled
    return compiled


def exists(session: Session, name: str) -> bool:
    return name == DEFAULT or _latest_row(session, name) is not None


def describe(session: Session, name: str, version: int | None = None) -> dict[str, Any]:
    ruleset = get(session, name, version)
    versions = list(
        session.execute(
            select(RulesetVersion.version, RulesetVersion.created_at, RulesetVersion.created_by)
            .where(RulesetVersion.name == name)
            .order_by(RulesetVersion.version)
        )
    )
    return {
        "name": ruleset.name,
        "version": ruleset.version,
        "description": ruleset.spec.description,
        "rules": [r.id for r in ruleset.spec.rules],
        "script": ruleset.spec.script.steps if ruleset.spec.script else None,
        "versions": [
            {"version": v, "created_at": c.isoformat(), "created_by": b} for v, c, b in versions
        ],
        "source": ruleset.source,
    }


def names(session: Session) -> list[dict[str, Any]]:
    _ensure_default(session)
    rows = session.execute(
        select(RulesetVersion.name, func.max(RulesetVersion.version))
        .group_by(RulesetVersion.name)
        .order_by(RulesetVersion.name)
    )
    return [{"name": n, "version": v} for n, v in rows]
