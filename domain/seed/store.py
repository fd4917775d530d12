"""The seed's side of the database: what is already there, and fast bulk writes of new rows.

SQLite gets the driver's `executemany` of ready tuples (no per-row SQLAlchemy processing);
PostgreSQL gets `COPY ... FROM STDIN` through psycopg, several times faster than any INSERT.
Ids are assigned by the generator, so on PostgreSQL the id sequences are moved past them
afterwards, or the next ordinary insert would collide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from queue import Full, Queue
from typing import Any, Protocol

from sqlalchemy import Connection, func, insert, select

from db.models import Base, Organization, OrganizationDomain, Service, ServiceUsage
from domain.seed.catalog import SERVICES
from domain.seed.rows import (
    GENERATED_TABLES,
    TABLE_COLUMNS,
    Batch,
    Encoding,
    Row,
    ServiceRef,
)


class SeedError(ValueError):
    """The seed cannot run as asked; the message says why in one line."""


def claim_tables(connection: Connection) -> None:
    """Hold the write lock from the start, so the highest ids read next stay the highest.

    Without it, an insert committed by someone else between reading max(id) and writing would
    make the seed's first rows collide with theirs.
    """
    if connection.dialect.name == "postgresql":
        tables = ", ".join(("services", *GENERATED_TABLES))
        connection.exec_driver_sql(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
    elif connection.dialect.name == "sqlite":
        # A write that changes nothing still takes SQLite's write lock for the transaction.
        connection.exec_driver_sql("UPDATE organizations SET id = id WHERE 0 = 1")
    else:
        raise SeedError(f"seeding supports sqlite and postgresql, not {connection.dialect.name}")


def ensure_services(connection: Connection) -> tuple[list[ServiceRef], int]:
    """The catalogue's services with their ids, inserting those missing; (services, added)."""
    table = Base.metadata.tables[Service.__tablename__]
    existing = _service_ids(connection)
    missing = [
        {
            "code": s.code,
            "name": s.name,
            "name_ja": s.name_ja,
            "requires_preregistration": s.requires_preregistration,
        }
        for s in SERVICES
        if s.code not in existing
    ]
    if missing:
        connection.execute(insert(table), missing)
        existing = _service_ids(connection)
    return [ServiceRef(existing[s.code], s) for s in SERVICES], len(missing)


def _service_ids(connection: Connection) -> dict[str, int]:
    table = Base.metadata.tables[Service.__tablename__]
    return {code: id_ for code, id_ in connection.execute(select(table.c.code, table.c.id))}


def next_ids(connection: Connection) -> dict[str, int]:
    tables = Base.metadata.tables
    return {
        name: (connection.execute(select(func.max(tables[name].c.id))).scalar() or 0) + 1
        for name in GENERATED_TABLES
    }


def existing_login_ids(connection: Connection) -> frozenset[str]:
    column = Organization.__table__.c.legacy_login_id
    return frozenset(connection.execute(select(column)).scalars())


def existing_domains(connection: Connection) -> frozenset[str]:
    column = OrganizationDomain.__table__.c.domain
    return frozenset(connection.execute(select(column).distinct()).scalars())


def encoding_for(connection: Connection) -> Encoding:
    """Dates and instants exactly as SQLAlchemy's own column types would bind them."""
    dialect = connection.dialect
    date_type = ServiceUsage.__table__.c.month.type.dialect_impl(dialect)
    instant_type = Organization.__table__.c.created_at.type.dialect_impl(dialect)
    return Encoding(
        date=_or_identity(date_type.bind_processor(dialect)),
        instant=_or_identity(instant_type.bind_processor(dialect)),
    )


def _or_identity(processor: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    return processor if processor is not None else (lambda value: value)


class BulkWriter:
    """Writes batches in parent-before-child order inside the caller's transaction."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._postgres = connection.dialect.name == "postgresql"

    def write(self, batch: Batch) -> None:
        for table in GENERATED_TABLES:
            rows = batch.rows[table]
            if rows:
                self.write_rows(table, rows)

    def write_rows(self, table: str, rows: Sequence[Row]) -> None:
        columns = TABLE_COLUMNS[table]
        if self._postgres:
            self._copy(table, columns, rows)
        else:
            placeholders = ", ".join("?" * len(columns))
            self._connection.exec_driver_sql(
                # Table and column names come from TABLE_COLUMNS, never from input.
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",  # noqa: S608
                list(rows),
            )

    def _copy(self, table: str, columns: tuple[str, ...], rows: Sequence[Row]) -> None:
        # The psycopg connection under SQLAlchemy's, so COPY runs in the same transaction.
        driver_connection = self._connection.connection.driver_connection
        assert driver_connection is not None
        with (
            driver_connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)


def resync_sequences(connection: Connection) -> None:
    """Move PostgreSQL's id sequences past the ids the seed assigned itself."""
    if connection.dialect.name != "postgresql":
        return  # SQLite picks max(rowid) + 1 by itself
    for table in ("services", *GENERATED_TABLES):
        connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) "  # noqa: S608
            f"FROM {table} HAVING max(id) IS NOT NULL"
        )


class BatchSink(Protocol):
    def write(self, batch: Batch) -> None: ...


def write_batches(writer: BatchSink, batches: Iterator[Batch], *, overlap: bool) -> None:
    """Write every batch; with `overlap`, write in a second thread while the next is generated.

    Worth it on PostgreSQL, where the server checks foreign keys and builds indexes in its own
    process while this one generates; SQLite works inside this process, so there it only adds
    thread switches.
    """
    if not overlap:
        for batch in batches:
            writer.write(batch)
        return
    handoff: Queue[Batch | None] = Queue(maxsize=2)

    def drain() -> None:
        while (batch := handoff.get()) is not None:
            writer.write(batch)

    with ThreadPoolExecutor(max_workers=1) as background:
        written = background.submit(drain)

        def hand_over(item: Batch | None) -> None:
            while True:
                try:
                    handoff.put(item, timeout=0.05)
                    return
                except Full:
                    if written.done():  # the writer failed: raise its error, stop generating
                        written.result()
                        raise AssertionError("the writer stopped without an error") from None

        try:
            for batch in batches:
                hand_over(batch)
        finally:
            if not written.done():
                hand_over(None)
        written.result()
