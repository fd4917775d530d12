"""Benchmark: the login-migration flow against plain Core inserts of the rows it creates.

    python bench/migration.py            # 100,000 organizations, 300,000 verified registrations
    python bench/migration.py --quick    # 5,000 organizations (under a minute on SQLite)
    python bench/migration.py --postgres postgresql://postgres@127.0.0.1:5432/test

Each backend gets a fresh database (a SQLite file; on PostgreSQL a database created and dropped
for the run, with --postgres or SWITCHOVER_BENCH_POSTGRES_URL): `domain.seed` organizations, then
three verified registrations per organization on average, bulk-inserted (Core on SQLite, COPY on
PostgreSQL): an Administrator in 19 organizations of 20, Japanese names where the organization is
Japanese, and one address in fifty shared by two organizations. An empty copy of that database
is kept for the floor (a file copy; on PostgreSQL a template copy).

* flow: the whole `login-migration` flow under Prefect (`prefect_test_harness`; start-up not
  timed): preflight, freeze, planning, canary and waves in batches of 500 organizations per
  task, invariants, the unregistered step — wall time of the flow call.
* floor: the persons, memberships and messages the flow created, read back and inserted into
  the copy with ``connection.execute(insert(table), rows)`` — the same rows, the same indexes
  and foreign keys; only the inserts and the commit are timed.

Prints a table, then as the last line one JSON object (value: flow seconds on SQLite; ratio:
flow / floor). Exits non-zero if something could not be measured.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, Table, func, insert, select
from sqlalchemy.engine import make_url

from db import schema
from db.engine import make_engine
from db.enums import RegistrationSource, RegistrationStatus, Role
from db.models import (
    Membership,
    Message,
    MigrationItem,
    MigrationWave,
    Organization,
    Person,
    Registration,
)
from db.scratch import scratch_postgres_database
from domain.clock import FixedClock
from domain.seed import seed_population

FULL_ORGS = 100_000
QUICK_ORGS = 5_000
TARGET = "flow <= 2x the Core floor"
TOKYO = ZoneInfo("Asia/Tokyo")
SEEDED_AT = FixedClock(dt.datetime(2025, 7, 1, 9, 0, tzinfo=TOKYO))
SWITCH = dt.datetime(2025, 9, 28, 0, 0, tzinfo=TOKYO)
PER_ORG = (2, 3, 4, 3, 3)  # registrations per organization, in turn: three on average
FLOOR_TABLES = (Person, Membership, Message)
READ_CHUNK = 20_000
JA_NAMES = ("山田 太郎", "佐藤 花子", "鈴木 一郎", "高橋 美咲", "田中 健")
EN_NAMES = ("Anna Berg", "Lars Olsen", "Maria Costa", "Chen Wei", "Ravi Kumar")


@dataclass(frozen=True)
class Measurement:
    backend: str
    orgs: int
    registrations: int
    rows: int  # persons + memberships + messages the flow created
    flow_seconds: float
    floor_seconds: float

    @property
    def ratio(self) -> float:
        return self.flow_seconds / self.floor_seconds

    @property
    def flow_rate(self) -> float:
        return self.rows / self.flow_seconds

    @property
    def floor_rate(self) -> float:
        return self.rows / self.floor_seconds


def registration_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        orgs = connection.execute(
            select(Organization.id, Organization.locale).order_by(Organization.id)
        ).all()
    rows: list[tuple[Any, ...]] = []
    submitted = SEEDED_AT.now()
    verified = submitted + dt.timedelta(hours=3)
    for index, (org_id, locale) in enumerate(orgs):
        names = JA_NAMES if str(locale) in ("ja", "Locale.JA") else EN_NAMES
        for k in range(PER_ORG[index % len(PER_ORG)]):
            if k == 0:
                role = Role.VISITOR if index % 20 == 19 else Role.ADMINISTRATOR
            else:
                role = Role.NORMAL if k % 2 else Role.VISITOR
            email = f"p{k}@org{org_id}.example"
            if k == 1 and index % 50 in (0, 1):  # two neighbours share an adviser
                email = f"adviser{index // 50}@advisers.example"
            rows.append(
                (
                    len(rows) + 1,
                    org_id,
                    email,
                    email,
                    names[(index + k) % len(names)],
                    role.value,
                    RegistrationStatus.VERIFIED.value,
                    RegistrationSource.PORTAL.value,
                    submitted,
                    f"org:bench{org_id}",
                    verified,
                    verified,
                )
            )
    return rows


COLUMNS = (
    "id",
    "organization_id",
    "email",
    "email_display",
    "name",
    "role",
    "status",
    "source",
    "submitted_at",
    "submitted_by",
    "verified_at",
    "status_changed_at",
)


def populate(url: str, orgs: int) -> int:
    engine = make_engine(url)
    try:
        schema.upgrade(engine)
        seed_population(engine, orgs=orgs, seed=2025, clock=SEEDED_AT, known_password_count=1)
        rows = registration_rows(engine)
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                driver = connection.connection.driver_connection
                assert driver is not None
                with (
                    driver.cursor() as cursor,
                    cursor.copy(f"COPY registrations ({', '.join(COLUMNS)}) FROM STDIN") as copy,
                ):
                    for row in rows:
                        copy.write_row(row)
                connection.exec_driver_sql(
                    "SELECT setval(pg_get_serial_sequence('registrations', 'id'), max(id)) "
                    "FROM registrations"
                )
            else:
                connection.execute(
                    insert(Registration.__table__),  # type: ignore[arg-type]
                    [dict(zip(COLUMNS, row, strict=True)) for row in rows],
                )
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("ANALYZE")
        return len(rows)
    finally:
        engine.dispose()


def postgres_database(admin_url: str, template: str | None = None) -> AbstractContextManager[str]:
    return scratch_postgres_database(admin_url, prefix="switchover_bench", template=template)


def run_flow(url: str) -> float:
    from flows.login_migration import login_migration

    os.environ["SWITCHOVER_DATABASE_URL"] = url
    started = time.perf_counter()
    result = login_migration(as_of=SWITCH, canary_share=0.01, wave_size=50_000, batch_size=500)
    seconds = time.perf_counter() - started
    if result["status"] != "completed" or result["failed"]:
        raise RuntimeError(f"the flow did not complete cleanly: {result}")
    return seconds


def copy_plan(source: Engine, target: Engine) -> None:
    """Waves and items (untimed): memberships refer to the items of their organization."""
    with source.connect() as reader, target.begin() as writer:
        for model in (MigrationWave, MigrationItem):
            table = cast(Table, model.__table__)
            rows = [dict(r._mapping) for r in reader.execute(select(table))]
            writer.execute(insert(table), rows)


def floor(source_url: str, target_url: str) -> tuple[float, int]:
    """Insert the flow's persons, memberships and messages into the copy; time only that."""
    source, target = make_engine(source_url), make_engine(target_url)
    seconds, rows = 0.0, 0
    try:
        copy_plan(source, target)
        with source.connect() as reader, target.connect() as writer:
            transaction = writer.begin()
            for model in FLOOR_TABLES:
                table = cast(Table, model.__table__)
                ids = reader.execute(select(table.c.id).order_by(table.c.id)).scalars().all()
                for start in range(0, len(ids), READ_CHUNK):
                    chunk = ids[start : start + READ_CHUNK]
                    batch = [
                        dict(r._mapping)
                        for r in reader.execute(
                            select(table).where(table.c.id.between(chunk[0], chunk[-1]))
                        )
                    ]
                    began = time.perf_counter()
                    writer.execute(insert(table), batch)
                    seconds += time.perf_counter() - began
                    rows += len(batch)
            began = time.perf_counter()
            transaction.commit()
            seconds += time.perf_counter() - began
    finally:
        source.dispose()
        target.dispose()
    return seconds, rows


def count_rows(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return sum(
                connection.execute(select(func.count()).select_from(m)).scalar_one()
                for m in FLOOR_TABLES
            )
    finally:
        engine.dispose()


def measure_sqlite(directory: str, orgs: int) -> Measurement:
    flow_db = Path(directory) / "flow.db"
    floor_db = Path(directory) / "floor.db"
    registrations = populate(f"sqlite:///{flow_db}", orgs)
    shutil.copyfile(flow_db, floor_db)  # the WAL is checkpointed when the engine closes
    flow_seconds = run_flow(f"sqlite:///{flow_db}")
    floor_seconds, rows = floor(f"sqlite:///{flow_db}", f"sqlite:///{floor_db}")
    if rows != count_rows(f"sqlite:///{flow_db}"):
        raise RuntimeError("the floor did not insert every row the flow created")
    return Measurement("sqlite", orgs, registrations, rows, flow_seconds, floor_seconds)


def measure_postgres(admin_url: str, orgs: int) -> Measurement:
    with postgres_database(admin_url) as flow_url:
        registrations = populate(flow_url, orgs)
        with postgres_database(admin_url, template=make_url(flow_url).database) as floor_url:
            flow_seconds = run_flow(flow_url)
            floor_seconds, rows = floor(flow_url, floor_url)
            if rows != count_rows(flow_url):
                raise RuntimeError("the floor did not insert every row the flow created")
    return Measurement("postgresql", orgs, registrations, rows, flow_seconds, floor_seconds)


def warm_up(directory: str) -> None:
    """Imports, the Prefect client and the email stencils' templates, before anything is timed."""
    url = f"sqlite:///{directory}/warm-up.db"
    populate(url, 30)
    run_flow(url)


def print_table(results: list[Measurement]) -> None:
    header = (
        f"{'backend':<11}{'method':<30}{'orgs':>9}{'registr.':>10}{'rows':>10}"
        f"{'seconds':>10}{'rows/s':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.backend:<11}{'login-migration flow':<30}{r.orgs:>9,}{r.registrations:>10,}"
            f"{r.rows:>10,}{r.flow_seconds:>10.2f}{r.flow_rate:>10,.0f}"
        )
        print(
            f"{r.backend:<11}{'floor: Core insert() of rows':<30}{r.orgs:>9,}{r.registrations:>10,}"
            f"{r.rows:>10,}{r.floor_seconds:>10.2f}{r.floor_rate:>10,.0f}"
        )
        print(f"{r.backend:<11}{'ratio (flow / floor)':<30}{r.ratio:>49.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ORGS:,} organizations")
    parser.add_argument("--orgs", type=int, help="override the number of organizations")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("SWITCHOVER_BENCH_POSTGRES_URL"),
        help="admin URL of a PostgreSQL server to measure too (a temporary database is used)",
    )
    args = parser.parse_args()
    orgs = args.orgs or (QUICK_ORGS if args.quick else FULL_ORGS)
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from prefect.testing.utilities import prefect_test_harness

    results: list[Measurement] = []
    try:
        with prefect_test_harness(server_startup_timeout=120):
            with tempfile.TemporaryDirectory(prefix="switchover-bench-") as directory:
                warm_up(directory)
                results.append(measure_sqlite(directory, orgs))
            if args.postgres:
                results.append(measure_postgres(args.postgres, orgs))
    except Exception as exc:
        print(f"error: could not measure: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print_table(results)
    sqlite = results[0]
    line: dict[str, object] = {
        "name": "login_migration",
        "value": round(sqlite.flow_seconds, 2),
        "unit": "s (whole flow)",
        "baseline": round(sqlite.floor_seconds, 2),
        "ratio": round(sqlite.ratio, 2),
        "target": TARGET,
        "met": all(r.ratio <= 2 for r in results),
        "orgs": orgs,
        "registrations": sqlite.registrations,
        "rows": sqlite.rows,
        "rows_per_second": round(sqlite.flow_rate),
    }
    if len(results) > 1:
        pg = results[1]
        line |= {
            "postgres_value": round(pg.flow_seconds, 2),
            "postgres_baseline": round(pg.floor_seconds, 2),
            "postgres_ratio": round(pg.ratio, 2),
            "postgres_rows_per_second": round(pg.flow_rate),
        }
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
