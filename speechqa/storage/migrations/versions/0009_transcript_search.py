"""transcript search

Full-text search over utterances with each database's own engine: on PostgreSQL a generated
``tsvector`` column with a GIN index, on SQLite an FTS5 table kept in step by triggers (Porter
stemming on both, so "refunds" finds "refund"). Note for later migrations: a SQLite batch
rebuild of ``utterances`` drops these triggers; recreate them after one.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 13:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TRIGGERS = [
    """CREATE TRIGGER utterances_fts_insert AFTER INSERT ON utterances BEGIN
         INSERT INTO utterances_fts(rowid, text) VALUES (new.id, new.text);
       END""",
    """CREATE TRIGGER utterances_fts_delete AFTER DELETE ON utterances BEGIN
         INSERT INTO utterances_fts(utterances_fts, rowid, text)
         VALUES ('delete', old.id, old.text);
       END""",
    """CREATE TRIGGER utterances_fts_update AFTER UPDATE OF text ON utterances BEGIN
         INSERT INTO utterances_fts(utterances_fts, rowid, text)
         VALUES ('delete', old.id, old.text);
         INSERT INTO utterances_fts(rowid, text) VALUES (new.id, new.text);
       END""",
]


def upgrade() -> None:
    # The call list pages newest first, overall and per team.
    op.create_index("ix_calls_created", "calls", ["created_at", "id"])
    op.create_index("ix_calls_team_created", "calls", ["team", "created_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE utterances ADD COLUMN tsv tsvector "
            "GENERATED ALWAYS AS (to_tsvector('english', text)) STORED"
        )
        op.execute("CREATE INDEX ix_utterances_tsv ON utterances USING GIN (tsv)")
        return
    op.execute(
        "CREATE VIRTUAL TABLE utterances_fts USING fts5(text, content='utterances', "
        "content_rowid='id', tokenize='porter unicode61')"
    )
    for trigger in SQLITE_TRIGGERS:
        op.execute(trigger)
    op.execute("INSERT INTO utterances_fts(utterances_fts) VALUES ('rebuild')")


def downgrade() -> None:
    op.drop_index("ix_calls_team_created", "calls")
    op.drop_index("ix_calls_created", "calls")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_utterances_tsv")
        op.execute("ALTER TABLE utterances DROP COLUMN tsv")
        return
    for name in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER utterances_fts_{name}")
    op.execute("DROP TABLE utterances_fts")
