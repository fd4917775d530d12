"""drop messages (campaign_step, status): no query needs it that (campaign_step, template, status)
does not serve as well, and every queued email paid for keeping it

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 11:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_campaign_step_status")


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_campaign_step_status", ["campaign_step", "status"], unique=False
        )
