"""drop registrations (organization_id, status): (organization_id, status, role, submitted_at)
begins with the same columns and serves the same lookups, and every registration written or
changed (a migration marks 300,000) paid for keeping both

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 16:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_index("ix_registrations_organization_id_status")


def downgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_registrations_organization_id_status", ["organization_id", "status"], unique=False
        )
