"""Benchmark of `switchover seed` against plain SQLAlchemy Core inserts of the same rows.

    python bench/seed.py            # 100,000 organizations (~3.7 million rows)
    python bench/seed.py --quick    # 20,000 organizations (under a minute in all)
    python bench/seed.py --postgres postgresql://postgres@127.0.0.1:5432/test

Imports are warmed up first (a few organizations into a scratch database). Each measurement
runs on a fresh temporary database (SQLite file; on PostgreSQL a database created and dropped
for the run, when --postgres or SWITCHOVER_BENCH_POSTGRES_URL is given):

* seed: `seed_population` end to end, password hashing and row generation included;
* baseline: the same rows, generated beforehand by the same generator and not timed, inserted
  with ``connection.execute(insert(table), rows)`` batch by batch in one transaction.

Prints a table, then as the last line one JSON object (value: seed rows/s on SQLite).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from db import schema
from db.engine import make_engine
from db.models import Base
from db.scratch import scratch_postgres_database
from domain.clock import FixedClock
from domain.seed import seed_population
from domain.seed.population import (
    BATCH_SIZE,
    make_password_hashes,
    prepare_generator,
)
from domain.seed.rows import GENERATED_TABLES, TABLE_COLUMNS

FULL_ORGS = 100_000
QUICK_ORGS = 20_000
TARGET = ">= 0.5 of the Core baseline, and 100,000 organizations in < 60 s on SQLite"
CLOCK = FixedClock(dt.datetime(2025, 7, 1, 9, 0, tzinfo=dt.UTC))
KNOWN_PASSWORDS = 5


LABELS = {"seed": "seed (generate + write)", "baseline": "baseline: Core insert()"}


@dataclass(frozen=True)
class Measurement:
    backend: str
    kind: str  # "seed" or "baseline"
    orgs: int
    rows: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds


def measure_seed(url: str, orgs: int, seed: int) -> Measurement:
    engine = make_engine(url)
    try:
        schema.upgrade(engine)
        summary = seed_population(
            engine, orgs=orgs, seed=seed, clock=CLOCK, known_password_count=KNOWN_PASSWORDS
        )
    finally:
        engine.dispose()
    return Measurement(
        engine.dialect.name, "seed", orgs, summary.total_rows, summary.elapsed_seconds
    )


def measure_core_baseline(url: str, orgs: int, seed: int) -> Measurement:
    engine = make_engine(url)
    tables = Base.metadata.tables
    try:
        schema.upgrade(engine)
        passwords = make_password_hashes()
        seconds = 0.0
        rows = 0
        with engine.connect() as connection:
            transaction = connection.begin()
            generator, services_added = prepare_generator(
                connection,
                seed=seed,
                clock=CLOCK,
                passwords=passwords,
                known_password_count=KNOWN_PASSWORDS,
                native_values=False,
            )
            rows += services_added
            for batch in generator.batches(orgs, BATCH_SIZE):
                prepared = [
                    (name, [dict(zip(TABLE_COLUMNS[name], row, strict=True)) for row in batch_rows])
                    for name in GENERATED_TABLES
                    if (batch_rows := batch.rows[name])
                ]
                started = time.perf_counter()
                for name, dict_rows in prepared:
                    connection.execute(insert(tables[name]), dict_rows)
                seconds += time.perf_counter() - started
                rows += sum(len(dict_rows) for _, dict_rows in prepared)
            started = time.perf_counter()
            transaction.commit()
            seconds += time.perf_counter() - started
    finally:
        engine.dispose()
    return Measurement(engine.dialect.name, "baseline", orgs, rows, seconds)


def postgres_database(admin_url: str) -> AbstractContextManager[str]:
    return scratch_postgres_database(admin_url, prefix="switchover_bench")


def warm_up(directory: str, seed: int) -> None:
    """Import what the seed imports lazily (Faker's locales) before anything is timed.

    Imports are paid once per process, not per row; another seed keeps the measured run's own
    name pools (about half a second) inside its time.
    """
    measure_seed(f"sqlite:///{directory}/warm-up.db", KNOWN_PASSWORDS, seed + 1)


def run(orgs: int, seed: int, postgres_url: str | None) -> list[Measurement]:
    results = []
    with tempfile.TemporaryDirectory(prefix="switchover-bench-") as directory:
        warm_up(directory, seed)
        results.append(measure_seed(f"sqlite:///{directory}/seed.db", orgs, seed))
        results.append(measure_core_baseline(f"sqlite:///{directory}/baseline.db", orgs, seed))
    if postgres_url:
        with postgres_database(postgres_url) as url:
            results.append(measure_seed(url, orgs, seed))
        with postgres_database(postgres_url) as url:
            results.append(measure_core_baseline(url, orgs, seed))
    return results


def print_table(results: list[Measurement]) -> None:
    header = f"{'backend':<11}{'method':<26}{'orgs':>9}{'rows':>12}{'seconds':>10}{'rows/s':>12}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.backend:<11}{LABELS[r.kind]:<26}{r.orgs:>9,}{r.rows:>12,}{r.seconds:>10.2f}"
            f"{r.rows_per_second:>12,.0f}"
        )


def summary_line(results: list[Measurement], orgs: int) -> dict[str, object]:
    by_key = {(r.backend, r.kind): r for r in results}
    seed_sqlite, core_sqlite = by_key[("sqlite", "seed")], by_key[("sqlite", "baseline")]
    line: dict[str, object] = {
        "name": "seed",
        "value": round(seed_sqlite.rows_per_second),
        "unit": "rows/s",
        "baseline": round(core_sqlite.rows_per_second),
        "ratio": round(seed_sqlite.rows_per_second / core_sqlite.rows_per_second, 3),
        "target": TARGET,
        "orgs": orgs,
        "rows": seed_sqlite.rows,
        "seed_seconds": round(seed_sqlite.seconds, 2),
    }
    if orgs == FULL_ORGS:
        line["seconds_100k_orgs"] = round(seed_sqlite.seconds, 2)
    else:  # linear extrapolation: an upper bound, as the ~1 s of set-up does not grow
        line["projected_seconds_100k_orgs"] = round(seed_sqlite.seconds * FULL_ORGS / orgs, 1)
    if ("postgresql", "seed") in by_key:
        seed_pg, core_pg = by_key[("postgresql", "seed")], by_key[("postgresql", "baseline")]
        line["postgres_value"] = round(seed_pg.rows_per_second)
        line["postgres_baseline"] = round(core_pg.rows_per_second)
        line["postgres_ratio"] = round(seed_pg.rows_per_second / core_pg.rows_per_second, 3)
    return line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ORGS:,} organizations")
    parser.add_argument("--orgs", type=int, help="override the number of organizations")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("SWITCHOVER_BENCH_POSTGRES_URL"),
        help="admin URL of a PostgreSQL server to measure too (a temporary database is used)",
    )
    args = parser.parse_args()
    orgs = args.orgs or (QUICK_ORGS if args.quick else FULL_ORGS)
    try:
        results = run(orgs, args.seed, args.postgres)
        print_table(results)
        line = summary_line(results, orgs)
    except Exception as exc:
        print(f"error: could not measure: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
