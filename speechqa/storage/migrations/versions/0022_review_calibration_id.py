"""review calibration id: a review's calibration session is ``calibration_id`` (was ``session_id``)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _rename("session_id", "calibration_id")


def downgrade() -> None:
    _rename("calibration_id", "session_id")


def _rename(old: str, new: str) -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.drop_constraint(f"fk_reviews_{old}", type_="foreignkey")
        batch.drop_index(f"ix_reviews_{old}")
        batch.alter_column(old, new_column_name=new)
    with op.batch_alter_table("reviews") as batch:  # SQLite: the renamed column, in a new table
        batch.create_index(f"ix_reviews_{new}", [new])
        batch.create_foreign_key(
            f"fk_reviews_{new}", "calibration_sessions", [new], ["id"], ondelete="CASCADE"
        )
