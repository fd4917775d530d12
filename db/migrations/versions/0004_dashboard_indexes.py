"""dashboard indexes: the managers' dashboard reads the outbox and the registrations through
indexes alone (funnel stage per organization, registrations in a window of days, delivery by
campaign step and template, each step's audience, follow-up per organization)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 06:09:55.121893
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOLLOWUP = sa.text("template = 'followup'")


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_campaign_step_organization_id_created_at_status",
            ["campaign_step", "organization_id", "created_at", "status"],
            unique=False,
        )
        batch_op.create_index(
            "ix_messages_campaign_step_template_status",
            ["campaign_step", "template", "status"],
            unique=False,
        )
        batch_op.create_index(
            "ix_messages_followup_organization_id",
            ["organization_id", "campaign_step", "created_at"],
            unique=False,
            sqlite_where=FOLLOWUP,
            postgresql_where=FOLLOWUP,
        )

    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_registrations_organization_id_status_role_submitted_at",
            ["organization_id", "status", "role", "submitted_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_registrations_submitted_at_organization_id",
            ["submitted_at", "organization_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_index("ix_registrations_submitted_at_organization_id")
        batch_op.drop_index("ix_registrations_organization_id_status_role_submitted_at")

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_followup_organization_id")
        batch_op.drop_index("ix_messages_campaign_step_template_status")
        batch_op.drop_index("ix_messages_campaign_step_organization_id_created_at_status")
