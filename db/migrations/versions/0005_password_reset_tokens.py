"""password reset tokens: verification_tokens accept the purpose 'reset_password' (a person's
single-use link to choose a new password), which like 'activate_account' names a person

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PURPOSE = "ck_verification_tokens_token_purpose"
TARGET = "ck_verification_tokens_target_matches_purpose"

OLD_PURPOSES = "purpose IN ('verify_email', 'activate_account')"
NEW_PURPOSES = "purpose IN ('verify_email', 'activate_account', 'reset_password')"
OLD_TARGET = (
    "(purpose = 'verify_email' AND registration_id IS NOT NULL)"
    " OR (purpose = 'activate_account' AND person_id IS NOT NULL)"
)
NEW_TARGET = (
    "(purpose = 'verify_email' AND registration_id IS NOT NULL)"
    " OR (purpose IN ('activate_account', 'reset_password') AND person_id IS NOT NULL)"
)


def _replace_checks(purposes: str, target: str) -> None:
    # On SQLite the batch copies the table; on PostgreSQL these are two ALTER TABLE statements.
    with op.batch_alter_table("verification_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(PURPOSE), type_="check")
        batch_op.drop_constraint(op.f(TARGET), type_="check")
        batch_op.create_check_constraint(op.f(PURPOSE), sa.text(purposes))
        batch_op.create_check_constraint(op.f(TARGET), sa.text(target))


def upgrade() -> None:
    _replace_checks(NEW_PURPOSES, NEW_TARGET)


def downgrade() -> None:
    # Reset links cannot exist in the old schema; they are short-lived and only a hash anyway.
    op.execute("DELETE FROM verification_tokens WHERE purpose = 'reset_password'")
    _replace_checks(OLD_PURPOSES, OLD_TARGET)
