"""registrations by status and verification time: verification dispatch finds the registrations
verified since its horizon (to send their "registration confirmed" email) without reading every
verified registration every minute

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 10:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_registrations_status_verified_at_id",
            ["status", "verified_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_index("ix_registrations_status_verified_at_id")
