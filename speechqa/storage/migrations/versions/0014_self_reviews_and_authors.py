"""self reviews and ruleset authors

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 13:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(
            sa.Column("self_review", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("ruleset_versions") as batch:
        batch.add_column(sa.Column("created_by", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ruleset_versions") as batch:
        batch.drop_column("created_by")
    with op.batch_alter_table("reviews") as batch:
        batch.drop_column("self_review")
