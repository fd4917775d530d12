"""individual accounts: migration runs and item details, invitations, service applications,
person information, legacy log-in grace period

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 06:07:58.837719
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "migration_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "running",
                "halted",
                "failed",
                "completed",
                name="migration_run_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=True),
        sa.Column("frozen_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("halt_reason", sa.Text(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_migration_runs")),
    )
    with op.batch_alter_table("migration_runs", schema=None) as batch_op:
        batch_op.create_index("ix_migration_runs_frozen_at", ["frozen_at"], unique=False)

    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("email_display", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "administrator",
                "normal",
                "visitor",
                name="role",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("invited_by_person_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_invitations_email_normalized")),
        sa.ForeignKeyConstraint(
            ["invited_by_person_id"],
            ["persons.id"],
            name=op.f("fk_invitations_invited_by_person_id_persons"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_invitations_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_invitations_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invitations_organization_id_email", ["organization_id", "email"], unique=False
        )

    op.create_table(
        "service_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("applied_by_person_id", sa.Integer(), nullable=False),
        sa.Column("applied_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "submitted",
                "approved",
                "declined",
                name="service_application_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["applied_by_person_id"],
            ["persons.id"],
            name=op.f("fk_service_applications_applied_by_person_id_persons"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_service_applications_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_service_applications_service_id_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_applications")),
        sa.UniqueConstraint(
            "organization_id",
            "service_id",
            name=op.f("uq_service_applications_organization_id_service_id"),
        ),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("disabled_at", db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "ix_memberships_migration_item_id", ["migration_item_id"], unique=False
        )

    with op.batch_alter_table("migration_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))
        # Existing items have been tried as often as the runs that made them: count from 0.
        batch_op.add_column(
            sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("legacy_login_expires_at", db.types.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=50), nullable=True))
        batch_op.add_column(
            sa.Column(
                "locale",
                sa.Enum("en", "ja", name="locale", native_enum=False, create_constraint=True),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("password_changed_at", db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("last_login_at", db.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_column("last_login_at")
        batch_op.drop_column("password_changed_at")
        # SQLite's batch copy keeps the column's CHECK unless it goes first.
        batch_op.drop_constraint(op.f("ck_persons_locale"), type_="check")
        batch_op.drop_column("locale")
        batch_op.drop_column("phone")

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("legacy_login_expires_at")

    with op.batch_alter_table("migration_items", schema=None) as batch_op:
        batch_op.drop_column("attempts")
        batch_op.drop_column("details")

    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index("ix_memberships_migration_item_id")
        batch_op.drop_column("disabled_at")

    op.drop_table("service_applications")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_invitations_organization_id_email")

    op.drop_table("invitations")
    with op.batch_alter_table("migration_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_migration_runs_frozen_at")

    op.drop_table("migration_runs")
