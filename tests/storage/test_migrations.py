"""The migrations build exactly the schema the models describe, on both databases: a table,
column, index or constraint added to one and not the other fails here."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from speechqa.storage.database import get_engine, migrate
from speechqa.storage.tables import Base


def test_migrations_match_the_models(settings):
    migrate(settings)
    with get_engine(settings).connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    # Full-text search is made by raw SQL (0009): SQLite FTS5 tables, the PostgreSQL tsv column.
    ignored = {"fts", "tsv"}
    diff = [d for d in diff if not any(word in repr(d) for word in ignored)]
    assert diff == []
