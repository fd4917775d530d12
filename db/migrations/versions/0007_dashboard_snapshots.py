"""dashboard snapshots: the dashboard's heavy per-page figures as JSON, computed every minute
by the dashboard-refresh flow, so that pages need not compute them while a manager waits

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 09:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dashboard_snapshots",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("computed_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_dashboard_snapshots")),
    )


def downgrade() -> None:
    # Only derived figures: the next refresh after an upgrade writes them again.
    op.drop_table("dashboard_snapshots")
