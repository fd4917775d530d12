"""Benchmark: planning and queueing a reminder step, in batches versus one task per organization.

    python bench/campaign_planning.py            # 100,000 organizations; naive shape on 2,000
    python bench/campaign_planning.py --quick    # 5,000; naive on 200 (under a minute)
    python bench/campaign_planning.py --postgres postgresql://postgres@127.0.0.1:5432/test

Each backend gets a fresh database (a SQLite file; on PostgreSQL a database created and dropped
for the run, with --postgres or SWITCHOVER_BENCH_POSTGRES_URL) seeded with `domain.seed` and
given registrations so that every segment is populated: a quarter never registered, the others
pending, without a verified Administrator, or ready.

* batched: the reminder-campaign flow's shape — Prefect tasks (`tasks.mailing`) of 1,000
  organizations each, set-based segment queries, stencil rendering, bulk `enqueue_many`;
* naive: the same step with one Prefect task per organization, each classifying its one
  organization, rendering every email with `render_email` and committing on its own.

Both run as Prefect flows against one `prefect_test_harness` server and write real outbox rows
(sending excluded). They alternate in rounds so that a shared machine's changing load falls on
both. Time is per organization; the ratio is naive / batched.

Prints a table, then as the last line one JSON object (value: batched µs per organization on
SQLite). Exits non-zero only if something could not be measured.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import sys
import tempfile
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Engine, func, insert, select

from db import schema
from db.engine import make_engine
from db.enums import RegistrationSource, RegistrationStatus, Role
from db.models import Message, Organization, OrganizationDomain, Registration
from db.scratch import scratch_postgres_database
from domain.campaign import load_campaign, reminder_mailing
from domain.clock import FixedClock
from domain.context import App
from domain.mailing import Mailing, StencilCache, send_step
from domain.seed import seed_population
from domain.settings import Settings
from flows.runtime import work_session
from tasks.mailing import mail_organizations

FULL = (100_000, 2_000)
QUICK = (5_000, 200)
ROUNDS = 4
# Seconds to wait after each timed part: Prefect's server and this process's event and log
# workers finish a part's bookkeeping in the background, and it must not be billed to the next.
SETTLE_SECONDS = 2.0
BATCH = 1_000
TARGET = ">= 50x faster per organization than one Prefect task per organization"
AS_OF = dt.datetime(2025, 9, 7, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # T-7


@dataclass
class Side:
    orgs: int = 0
    messages: int = 0
    seconds: float = 0.0

    @property
    def per_org_us(self) -> float:
        return self.seconds / self.orgs * 1e6


@dataclass
class Measurement:
    backend: str
    batched: Side
    naive: Side

    @property
    def ratio(self) -> float:
        return self.naive.per_org_us / self.batched.per_org_us


# --- the population ---


def add_registrations(engine: Engine) -> None:
    """Spread organizations over the segments (by id, so every run gets the same mix)."""
    now = AS_OF.astimezone(dt.UTC) - dt.timedelta(days=30)
    with engine.begin() as connection:
        domains = dict(
            connection.execute(
                select(
                    OrganizationDomain.organization_id, func.min(OrganizationDomain.domain)
                ).group_by(OrganizationDomain.organization_id)
            ).all()
        )
        rows: list[dict[str, Any]] = []

        def person(org: int, local: str, role: Role, status: RegistrationStatus) -> None:
            email = f"{local}.{org}@{domains.get(org, 'example.com')}"
            verified = status is RegistrationStatus.VERIFIED
            rows.append(
                {
                    "organization_id": org,
                    "email": email,
                    "email_display": email,
                    "name": f"Person {org} {local.title()}",
                    "role": role,
                    "status": status,
                    "source": RegistrationSource.PORTAL,
                    "submitted_at": now,
                    "submitted_by": f"org:{org}",
                    "status_changed_at": now,
                    "verified_at": now if verified else None,
                }
            )

        for org in connection.execute(select(Organization.id)).scalars():
            share = org % 4
            if share == 1:  # registered, nothing verified
                person(org, "pending", Role.ADMINISTRATOR, RegistrationStatus.PENDING)
            elif share == 2:  # a verified Normal User, the Administrator still pending
                person(org, "user", Role.NORMAL, RegistrationStatus.VERIFIED)
                person(org, "admin", Role.ADMINISTRATOR, RegistrationStatus.PENDING)
            elif share == 3:  # ready
                person(org, "admin", Role.ADMINISTRATOR, RegistrationStatus.VERIFIED)
        for start in range(0, len(rows), 5_000):
            connection.execute(insert(Registration), rows[start : start + 5_000])


# --- the two shapes, as Prefect flows ---


@task(name="naive-one-organization", cache_policy=NO_CACHE)
def one_organization(app: App, mailing: Mailing, organization_id: int) -> int:
    with work_session(app, dry_run=False) as session:
        result = send_step(
            session,
            app.clock,
            app.settings,
            mailing,
            organization_id,
            organization_id,
            stencils=None,
        )
    return result.created


@dataclass
class Run:
    """What the flows work on; flow parameters must be plain data, so it is set here."""

    app: App
    mailing: Mailing
    naive_mailing: Mailing
    stencils: StencilCache


CURRENT: list[Run] = []


@flow(name="bench-batched")
def batched_shape(ranges: list[tuple[int, int]]) -> tuple[float, int]:
    run = CURRENT[-1]
    started = time.perf_counter()
    created = 0
    for first, last in ranges:
        result = mail_organizations(run.app, run.mailing, first, last, run.stencils, False)
        created += result.created
    return time.perf_counter() - started, created


@flow(name="bench-naive")
def naive_shape(organization_ids: list[int]) -> tuple[float, int]:
    run = CURRENT[-1]
    started = time.perf_counter()
    created = sum(one_organization(run.app, run.naive_mailing, org) for org in organization_ids)
    return time.perf_counter() - started, created


def ranges_of(ids: list[int], size: int) -> list[tuple[int, int]]:
    return [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]


def measure(url: str, orgs: int, naive_orgs: int) -> Measurement:
    engine = make_engine(url)
    try:
        schema.upgrade(engine)
        seed_population(
            engine, orgs=orgs, seed=2025, clock=FixedClock(AS_OF), known_password_count=0
        )
        add_registrations(engine)
        settings = Settings(_env_file=None, database_url=url)
        app = App(settings=settings, engine=engine, clock=FixedClock(AS_OF))
        scheduled = load_campaign(settings).step("T-7")
        mailing = reminder_mailing(scheduled, app.calendar, AS_OF)
        naive_mailing = dataclasses.replace(mailing, step="T-7-naive")
        with engine.connect() as connection:
            ids = list(
                connection.execute(select(Organization.id).order_by(Organization.id)).scalars()
            )
        # Warm-up, untimed: first imports, Prefect's first task runs, SQLite's page cache.
        CURRENT.append(
            Run(
                app,
                dataclasses.replace(mailing, step="warm-up"),
                dataclasses.replace(mailing, step="warm-up-naive"),
                StencilCache(settings),
            )
        )
        batched_shape(ranges_of(ids[:50], BATCH))
        naive_shape(ids[:3])
        time.sleep(SETTLE_SECONDS)
        stencils = StencilCache(settings)  # built anew: building them is part of the cost
        CURRENT.append(Run(app, mailing, naive_mailing, stencils))
        batched, naive = Side(), Side()
        # Rounds: a slice of the batched organizations, then a slice of the naive ones.
        batched_slices = [
            ids[k * len(ids) // ROUNDS : (k + 1) * len(ids) // ROUNDS] for k in range(ROUNDS)
        ]
        naive_ids = ids[:naive_orgs]
        naive_slices = [
            naive_ids[k * naive_orgs // ROUNDS : (k + 1) * naive_orgs // ROUNDS]
            for k in range(ROUNDS)
        ]
        for batch_ids, naive_part in zip(batched_slices, naive_slices, strict=True):
            seconds, created = batched_shape(ranges_of(batch_ids, BATCH))
            batched.orgs += len(batch_ids)
            batched.seconds += seconds
            batched.messages += created
            time.sleep(SETTLE_SECONDS)
            seconds, created = naive_shape(naive_part)
            naive.orgs += len(naive_part)
            naive.seconds += seconds
            naive.messages += created
            time.sleep(SETTLE_SECONDS)
        with engine.connect() as connection:
            stored = connection.execute(
                select(func.count())
                .select_from(Message)
                .where(Message.campaign_step.in_([mailing.step, naive_mailing.step]))
            ).scalar_one()
        if stored != batched.messages + naive.messages or not batched.messages:
            raise RuntimeError(
                f"expected {batched.messages + naive.messages} messages, found {stored}"
            )
        fast, slow = stencils.renders
        if slow > fast:
            raise RuntimeError(f"stencils were not used ({fast} filled in, {slow} in full)")
        return Measurement(engine.dialect.name, batched, naive)
    finally:
        engine.dispose()


def postgres_database(admin_url: str) -> AbstractContextManager[str]:
    return scratch_postgres_database(admin_url, prefix="switchover_bench")


def print_table(results: list[Measurement]) -> None:
    header = f"{'backend':<11}{'shape':<34}{'orgs':>9}{'emails':>10}{'seconds':>10}{'µs/org':>10}"
    print(header)
    print("-" * len(header))
    for r in results:
        for label, side in (
            (f"batched ({BATCH:,} orgs per task)", r.batched),
            ("naive (1 task per organization)", r.naive),
        ):
            print(
                f"{r.backend:<11}{label:<34}{side.orgs:>9,}{side.messages:>10,}"
                f"{side.seconds:>10.2f}{side.per_org_us:>10,.0f}"
            )
        print(f"{r.backend:<11}{'ratio (naive / batched)':<34}{r.ratio:>49.1f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK[0]:,} organizations")
    parser.add_argument("--orgs", type=int, help="override the number of organizations")
    parser.add_argument("--naive-orgs", type=int, help="override the naive shape's organizations")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("SWITCHOVER_BENCH_POSTGRES_URL"),
        help="admin URL of a PostgreSQL server to measure too (a temporary database is used)",
    )
    args = parser.parse_args()
    orgs, naive_orgs = QUICK if args.quick else FULL
    orgs = args.orgs or orgs
    naive_orgs = min(args.naive_orgs or naive_orgs, orgs)
    from prefect.testing.utilities import prefect_test_harness

    results: list[Measurement] = []
    try:
        with prefect_test_harness(server_startup_timeout=120):
            with tempfile.TemporaryDirectory(prefix="switchover-bench-") as directory:
                results.append(measure(f"sqlite:///{directory}/campaign.db", orgs, naive_orgs))
            if args.postgres:
                with postgres_database(args.postgres) as url:
                    results.append(measure(url, orgs, naive_orgs))
    except Exception as exc:
        print(f"error: could not measure: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print_table(results)
    sqlite = results[0]
    line: dict[str, object] = {
        "name": "campaign_planning",
        "value": round(sqlite.batched.per_org_us, 1),
        "unit": "µs per organization (plan + render + queue, sending excluded)",
        "baseline": round(sqlite.naive.per_org_us, 1),
        "ratio": round(sqlite.ratio, 1),
        "target": TARGET,
        "met": all(r.ratio >= 50 for r in results),
        "orgs": orgs,
        "naive_orgs": naive_orgs,
        "emails": sqlite.batched.messages,
        "batched_seconds": round(sqlite.batched.seconds, 2),
    }
    if len(results) > 1:
        pg = results[1]
        line |= {
            "postgres_value": round(pg.batched.per_org_us, 1),
            "postgres_baseline": round(pg.naive.per_org_us, 1),
            "postgres_ratio": round(pg.ratio, 1),
        }
    print(json.dumps(line, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
