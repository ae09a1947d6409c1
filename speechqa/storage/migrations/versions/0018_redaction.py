"""redaction: where personal data was said, and the redacted copy of the recording

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-27 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("redactions", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("redacted_audio_path", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("redacted_audio_path")
        batch.drop_column("redactions")
