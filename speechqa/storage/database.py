"""Database connection and migrations.

One engine per process and URL. SQLite gets WAL and a busy timeout so that the API and a worker
can write to the same file; PostgreSQL migrations take an advisory lock so that many workers
starting at once migrate once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from speechqa.errors import NotStored, ServiceUnavailable
from speechqa.settings import Settings

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def get_engine(settings: Settings) -> Engine:
    """The process-wide engine for the configured database (created on first use)."""
    url = settings.sqlalchemy_url
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _create(url, settings)
            _engines[url] = engine
        return engine


def _create(url: str, settings: Settings) -> Engine:
    parsed = make_url(url)
    pool = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout_s,
    }
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **pool
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "savepoint")
        def _begin_first(conn: Connection, _name: str | None) -> None:
            # pysqlite begins a transaction only before INSERT/UPDATE/DELETE: a SAVEPOINT sent
            # first would start one of its own, whose RELEASE commits at once (a later rollback
            # would keep the rows).
            dbapi_conn = conn.connection.dbapi_connection
            if dbapi_conn is not None and not dbapi_conn.in_transaction:
                conn.exec_driver_sql("BEGIN")

        return engine
    if parsed.drivername in ("postgresql", "postgres"):
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True, **pool)


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def session_factory(settings: Settings) -> sessionmaker[Session]:
    return sessionmaker(get_engine(settings), expire_on_commit=False)


@contextmanager
def session_scope(settings: Settings) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = session_factory(settings)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def answered_scope(settings: Settings) -> Iterator[Session]:
    """:func:`session_scope` for a change a person is told about (an API route, a web form).

    The caller ends it before answering. A commit the database refuses (a constraint or
    trigger checked at commit) is :class:`NotStored`, so the answer says that nothing was
    stored; a lost connection stays an ``OperationalError`` (503, retry).
    """
    session = session_factory(settings)()
    try:
        yield session
        try:
            session.commit()
        except OperationalError:
            raise
        except DBAPIError as exc:
            log.error("the database refused a commit: %s", exc.orig)
            raise NotStored(
                "The change was not stored: the database refused it. Nothing was saved."
            ) from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def migrate(settings: Settings) -> None:
    """Bring the database schema up to date (safe to call from many processes)."""
    from alembic import command
    from alembic.config import Config

    engine = get_engine(settings)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(74657301)"))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except Exception as exc:
        if _is_connection_error(exc):
            log.warning("the database cannot be reached: %s", exc)
            raise ServiceUnavailable("The database cannot be reached.") from exc
        raise


def ping(settings: Settings) -> None:
    """Raise ServiceUnavailable unless the database answers."""
    try:
        with get_engine(settings).connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        log.warning("the database cannot be reached: %s", exc)
        raise ServiceUnavailable("The database cannot be reached.") from exc


def _is_connection_error(exc: Exception) -> bool:
    return isinstance(exc, OperationalError)
