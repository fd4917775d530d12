"""INSERT … ON CONFLICT DO NOTHING for both databases we run on.

Idempotent writes (outbox keys, persons by email, helpdesk Message-IDs, applications) use it
instead of a savepoint around a plain INSERT: with SQLite's Python driver a SAVEPOINT opened first
in a transaction is the transaction, and releasing it commits what the caller may still roll back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignoring(session: Session, table: Any, *conflict_columns: str) -> Insert:
    """An INSERT into `table` (a Table or a mapped class) that skips rows whose
    `conflict_columns` (a unique constraint or index) already exist; add RETURNING to learn
    which rows went in."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(
            index_elements=list(conflict_columns)
        )
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(conflict_columns))
    raise ValueError(f"unsupported database dialect {dialect!r}")
