"""Bulk and idempotent INSERTs for both databases we run on: `insert_ignoring` (INSERT … ON
CONFLICT DO NOTHING) and `insert_many` (COPY on PostgreSQL).

Idempotent writes (outbox keys, persons by email, helpdesk Message-IDs, applications) use the
first instead of a savepoint around a plain INSERT: with SQLite's Python driver a SAVEPOINT
opened first in a transaction is the transaction, and releasing it commits what the caller may
still roll back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Insert, Table, insert
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


def insert_many(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """A plain INSERT of `rows` (each with the same keys) in the session's transaction.

    On PostgreSQL the rows go through COPY: a migration batch writes thousands of small rows
    (memberships, links, audit events), which the server takes several times faster by COPY
    than as INSERT statements, and which psycopg formats in C. Each value passes through its
    column's bind processing, as SQLAlchemy's INSERT would send it. A column left out that has a
    Python-side default is filled by SQLAlchemy only: such rows take the INSERT.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    defaulted = [c for c in table.columns if c.default is not None and c.name not in rows[0]]
    if dialect.name != "postgresql" or defaulted:
        session.execute(insert(table), list(rows))
        return
    processors = [table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names]
    columns = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    target = dialect.identifier_preparer.format_table(table)
    driver = connection.connection.driver_connection
    with (
        driver.cursor() as cursor,  # type: ignore[union-attr]
        cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            values = [row[name] for name in names]
            copy.write_row(
                [v if p is None else p(v) for v, p in zip(values, processors, strict=True)]
            )
