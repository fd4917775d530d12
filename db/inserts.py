"""Bulk and idempotent INSERTs for both databases we run on: `insert_ignoring` (INSERT … ON
CONFLICT DO NOTHING) and `insert_many` (COPY on PostgreSQL).

Idempotent writes (outbox keys, persons by email, helpdesk Message-IDs, applications) use the
first instead of a savepoint around a plain INSERT: with SQLite's Python driver a SAVEPOINT
opened first in a transaction is the transaction, and releasing it commits what the caller may
still roll back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
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

    A migration batch writes thousands of small rows (memberships, links, audit events). On
    PostgreSQL they go through COPY, which the server takes several times faster than INSERT
    statements and psycopg formats in C; on SQLite through the driver's own executemany of one
    INSERT, without SQLAlchemy's per-row parameter handling. Either way each value passes
    through its column's bind processing, so the database gets what SQLAlchemy's INSERT would
    send. A column left out that has a Python-side default is filled by SQLAlchemy only: such
    rows take SQLAlchemy's INSERT.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    defaulted = [c for c in table.columns if c.default is not None and c.name not in rows[0]]
    if dialect.name not in ("postgresql", "sqlite") or defaulted:
        session.execute(insert(table), list(rows))
        return
    processors = [table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names]

    def values() -> Iterator[list[Any]]:
        for row in rows:
            yield [
                v if p is None else p(v)
                for v, p in zip([row[n] for n in names], processors, strict=True)
            ]

    # Names of the table's own columns (table.c[n] above refuses others), quoted; values bound.
    columns = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    target = dialect.identifier_preparer.format_table(table)
    driver: Any = connection.connection.driver_connection
    if dialect.name == "sqlite":
        marks = ", ".join("?" * len(names))
        statement = f"INSERT INTO {target} ({columns}) VALUES ({marks})"  # noqa: S608
        driver.executemany(statement, values())
        return
    with driver.cursor() as cursor, cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
        for row_values in values():
            copy.write_row(row_values)
