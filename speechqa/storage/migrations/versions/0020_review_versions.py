"""review versions: a re-evaluation names the review it revises, and why

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("revises", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("revision_reason", sa.Text(), nullable=True))
        batch.create_foreign_key(
            "fk_reviews_revises_reviews", "reviews", ["revises"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.drop_constraint("fk_reviews_revises_reviews", type_="foreignkey")
        batch.drop_column("revision_reason")
        batch.drop_column("revises")
