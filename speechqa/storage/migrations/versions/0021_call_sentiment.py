"""call sentiment: the sentiment summary is stored when a call is analysed

Calls analysed before this have none (NULL): the call document computes theirs from the
utterances when it is read, as it did for every call before, so nothing is backfilled here (that
would read every utterance of every call during the upgrade).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("sentiment", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("sentiment")
