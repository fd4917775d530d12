"""Bulk and idempotent INSERTs for both databases we run on: `insert_ignoring` (INSERT … ON
CONFLICT DO NOTHING) and `insert_many` (COPY on PostgreSQL).

Idempotent writes (outbox keys, persons by email, helpdesk Message-IDs, applications) use the
first instead of a savepoint around a plain INSERT: with SQLite's Python driver a SAVEPOINT
opened first in a transaction is the transaction, and releasing it commits what the caller may
still roll back.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Insert, Table, bindparam, func, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
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


def insert_many(session: Session, table: Table, rows: Iterable[Mapping[str, Any]]) -> int:
    """A plain INSERT of `rows` (each with the same keys) in the session's transaction; returns
    how many rows went in.

    A migration batch writes thousands of small rows (memberships, links, audit events). On
    PostgreSQL they go through COPY, which the server takes several times faster than INSERT
    statements and psycopg formats in C; on SQLite through the driver's own executemany of one
    INSERT, without SQLAlchemy's per-row parameter handling. Either way each value passes
    through its column's bind processing, so the database gets what SQLAlchemy's INSERT would
    send. A column left out that has a Python-side default is filled by SQLAlchemy only: such
    rows take SQLAlchemy's INSERT.

    `rows` may be a generator: on PostgreSQL each row is sent as it comes, so a caller that
    produces rows lazily (renders emails) overlaps its work with the server's. If the generator
    raises midway, COPY is abandoned and the error passes on; on PostgreSQL the transaction is
    then aborted, on SQLite the rows before it stay (run it under a savepoint, or roll back).
    """
    pending = iter(rows)
    first = next(pending, None)
    if first is None:
        return 0
    connection = session.connection()
    dialect = connection.dialect
    names = list(first)
    defaulted = [c for c in table.columns if c.default is not None and c.name not in first]
    if dialect.name not in ("postgresql", "sqlite") or defaulted:
        every = [first, *pending]
        session.execute(insert(table), every)
        return len(every)
    # The columns whose values need processing (times, enums, JSON), each with a memo: most
    # such values repeat from row to row (the batch's time, a status), and a dict lookup is a
    # fraction of a processor call. Unhashable values (JSON documents) are processed each time.
    processed: list[tuple[int, Callable[[Any], Any], dict[Any, Any]]] = []
    for index, name in enumerate(names):
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processed.append((index, processor, {}))
    count = 0

    def values() -> Iterator[list[Any]]:
        nonlocal count
        for row in itertools.chain((first,), pending):
            count += 1
            out = [row[name] for name in names]
            for index, processor, memo in processed:
                value = out[index]
                try:
                    out[index] = memo[value]
                except KeyError:
                    out[index] = memo[value] = processor(value)
                except TypeError:
                    out[index] = processor(value)
            yield out

    # Names of the table's own columns (table.c[n] above refuses others), quoted; values bound.
    columns = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    target = dialect.identifier_preparer.format_table(table)
    driver: Any = connection.connection.driver_connection
    if dialect.name == "sqlite":
        marks = ", ".join("?" * len(names))
        statement = f"INSERT INTO {target} ({columns}) VALUES ({marks})"  # noqa: S608
    else:
        statement = f"COPY {target} ({columns}) FROM STDIN"
    try:
        if dialect.name == "sqlite":
            driver.executemany(statement, values())
        else:
            with driver.cursor() as cursor, cursor.copy(statement) as copy:
                for row_values in values():
                    copy.write_row(row_values)
    except dialect.loaded_dbapi.Error as exc:
        # As SQLAlchemy raises them (IntegrityError for a duplicate key, ...), for the callers.
        raise DBAPIError.instance(statement, None, exc, dialect.loaded_dbapi.Error) from exc
    return count


def update_many(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    key: str = "id",
    also: Mapping[str, Any] | None = None,
) -> None:
    """``UPDATE table SET <the row's other columns>, <also> WHERE key = <the row's key>`` for
    each of `rows` (each with the same keys, `key` among them), in the session's transaction.

    `also` sets columns alike for every row, to values or SQL expressions (``attempts + 1``).
    On PostgreSQL this is one statement whose rows come from array parameters (``UPDATE … FROM
    unnest(…)``), not a statement per row; on SQLite the driver's own executemany, without
    SQLAlchemy's per-row parameter handling. Values pass through their columns' processing.
    """
    if not rows:
        return
    names = list(rows[0])
    if key not in names:
        raise ValueError(f"the rows must carry the key column {key!r}")
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name == "postgresql":
        given = (
            func.unnest(*[bindparam(f"u_{n}", type_=ARRAY(table.c[n].type)) for n in names])
            .table_valued(*names)
            .render_derived()
        )
        statement = (
            update(table)
            .where(table.c[key] == given.c[key])
            .values({**{n: given.c[n] for n in names if n != key}, **(also or {})})
        )
        session.execute(statement, {f"u_{n}": [row[n] for row in rows] for n in names})
        return
    statement = (
        update(table)
        .where(table.c[key] == bindparam(f"u_{key}"))
        .values({**{n: bindparam(f"u_{n}") for n in names if n != key}, **(also or {})})
    )
    if dialect.name != "sqlite":
        session.execute(statement, [{f"u_{n}": row[n] for n in names} for row in rows])
        return
    compiled = statement.compile(dialect=dialect)
    order = compiled.positiontup or []
    # Each placeholder: a row's value (u_<column>), or the one value of `also` bound there.
    slots: list[tuple[str | None, Any, Callable[[Any], Any] | None]] = []
    for name in order:
        bound = compiled.binds[name]
        processor = bound.type.dialect_impl(dialect).bind_processor(dialect)
        if name.startswith("u_") and name[2:] in names:
            slots.append((name[2:], None, processor))
        else:
            fixed = bound.effective_value
            slots.append((None, fixed if processor is None else processor(fixed), None))

    def values() -> Iterator[list[Any]]:
        for row in rows:
            out = []
            for column, fixed, processor in slots:
                if column is None:
                    out.append(fixed)
                else:
                    value = row[column]
                    out.append(value if processor is None else processor(value))
            yield out

    driver: Any = connection.connection.driver_connection
    try:
        driver.executemany(compiled.string, values())
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(compiled.string, None, exc, dialect.loaded_dbapi.Error) from exc
