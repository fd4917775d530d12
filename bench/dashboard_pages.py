"""Benchmark: the server-side time to render each dashboard page on a large database.

    python bench/dashboard_pages.py            # 100,000 organizations, 300,000 registrations,
                                               # 1,000,000 messages
    python bench/dashboard_pages.py --quick    # a twentieth of that (< 1 minute)
    python bench/dashboard_pages.py --postgres postgresql://postgres@127.0.0.1:5432/test
    python bench/dashboard_pages.py --keep     # build the worlds once, reuse them on later runs
    python bench/dashboard_pages.py --keep --pages overview --sql  # one page, its statements

For each database (a temporary SQLite file; a temporary PostgreSQL database when --postgres or
SWITCHOVER_BENCH_POSTGRES_URL is given) the data is built once, analyzed, and then each page is
rendered by Streamlit's AppTest — the same script run the server does for a browser, without the
browser (sharing one compiled copy of each page script across renders, as the server does).
Every render starts with empty caches (the dashboard's figures are cached for 30 s, so
this is the slow case a manager meets when a figure expires); the median of three is reported,
beside the median of three ``SELECT count(*) FROM messages`` timed in the same run.

Each page is measured two ways: *live*, computing every figure during the render (a dashboard
without the dashboard-refresh flow), and *snapshot*, reading the heavy figures the refresh keeps
(the flow runs every minute; a snapshot render that fell back to live figures is an error).
The refresh itself is timed too: that work moves off the manager's wait, it does not vanish.

Target: every page under 1 s server-side, and within 10x of that count. Prints a table, then one
JSON line: value and ratio are the slowest page in snapshot mode on the first database ("mode"
says so); live_value and live_ratio the same in live mode; refresh_ms the refresh's time.

With --keep the built worlds are kept (a SQLite file in the temporary directory, a PostgreSQL
database named switchover_bench_dashboard_<size>) and reused by later runs with --keep, after
bringing their schema to the newest migration and analyzing them again: a full build takes
minutes, and a new index needs only its migration. A world is renamed into place only once
complete, so an interrupted build is never reused. --sql prints each statement's time in the
cold renders.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Streamlit warns on every AppTest run that there is no server; nothing to act on here.
os.environ.setdefault("STREAMLIT_LOGGER_LEVEL", "error")

import streamlit as st
import streamlit.logger
import streamlit.testing.v1.app_test
import streamlit.testing.v1.local_script_runner
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.testing.v1 import AppTest

from bench._dashboard_world import Volumes, populate
from db import schema
from db.engine import make_engine
from db.scratch import scratch_postgres_database
from domain.clock import FixedClock
from domain.seed import seed_population
from domain.settings import normalize_database_url

FULL_ORGS = 100_000
FULL = Volumes(registrations=300_000, messages=1_000_000, helpdesk=20_000)
QUICK_FACTOR = 0.05
PAGES = ("overview", "organizations", "campaigns", "migration", "followup", "helpdesk")
APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
NOW = "2025-09-20T10:00:00+09:00"  # after the close, before the switch: every page has data
TARGET = "every page < 1 s server-side and < 10x SELECT count(*) FROM messages"
REPEATS = 3
SNAPSHOT_PAGES = PAGES  # each says "figures as of" when it read the snapshot
MAX_AGE = "SWITCHOVER_DASHBOARD_SNAPSHOT_MAX_AGE_SECONDS"
KEPT_TABLES = ("organizations", "registrations", "messages", "audit_events",
               "helpdesk_contacts", "migration_items")  # fmt: skip


# The server compiles each page script once per process (its Runtime's ScriptCache); AppTest
# makes a new cache, so compiles app.py and the page (Streamlit's magic rewrites their syntax
# trees: 20-50 ms a page) on every run. One cache for every run, as the server has.
_SCRIPTS = ScriptCache()


def _server_script_cache() -> ScriptCache:
    return _SCRIPTS


streamlit.testing.v1.app_test.ScriptCache = _server_script_cache  # type: ignore[attr-defined,assignment]
streamlit.testing.v1.local_script_runner.ScriptCache = _server_script_cache  # type: ignore[attr-defined,assignment]


@dataclass(frozen=True)
class Result:
    backend: str
    rows: dict[str, int]
    build_seconds: float
    count_ms: float
    cold_ms: dict[str, float]  # live: every figure computed during the render
    warm_ms: dict[str, float]
    snapshot_ms: dict[str, float]  # the heavy figures read from the refresh's snapshot
    refresh_ms: float
    refresh_parts: dict[str, float]


def build(url: str, orgs: int, volumes: Volumes) -> tuple[dict[str, int], float]:
    started = time.perf_counter()
    engine = make_engine(url)
    try:
        schema.upgrade(engine)
        clock = FixedClock(dt.datetime(2025, 6, 10, tzinfo=dt.UTC))
        seeded = seed_population(engine, orgs=orgs, seed=2025, clock=clock, known_password_count=0)
        with engine.begin() as connection:
            rows = populate(connection, volumes)
        rows["organizations"] = seeded.organizations
        analyze(engine)
    finally:
        engine.dispose()
    return rows, time.perf_counter() - started


def analyze(engine: Engine) -> None:
    """What autovacuum and a periodic ANALYZE do on a live database."""
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("VACUUM ANALYZE")
        else:
            connection.exec_driver_sql("ANALYZE")


def reuse(url: str) -> tuple[dict[str, int], float]:
    """A kept world brought to the newest schema and analyzed; rows counted per table."""
    started = time.perf_counter()
    engine = make_engine(url)
    try:
        schema.upgrade(engine)
        analyze(engine)
        with engine.connect() as connection:
            rows = {
                t: int(connection.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one())
                for t in KEPT_TABLES
            }
    finally:
        engine.dispose()
    return rows, time.perf_counter() - started


def time_count(url: str) -> float:
    engine = make_engine(url)
    try:
        samples = []
        with engine.connect() as connection:
            connection.execute(text("SELECT count(*) FROM messages")).scalar_one()  # warm up
            for _ in range(REPEATS):
                started = time.perf_counter()
                connection.execute(text("SELECT count(*) FROM messages")).scalar_one()
                samples.append((time.perf_counter() - started) * 1000)
    finally:
        engine.dispose()
    return statistics.median(samples)


def render(
    page: str, *, cold: bool, sql: StatementTimes | None = None, kept: bool = False
) -> float:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["switchover_viewer"] = "Benchmark"
    at.run()  # the overview (default page) renders first, as in a browser
    if at.exception:
        raise RuntimeError(f"the dashboard failed: {at.exception[0].message}")
    if page != "overview":
        at.switch_page(f"views/{page}.py")
    if cold:
        st.cache_data.clear()
    else:
        at.run()  # fills the page's caches; the timed run below reads them
    if sql is not None:
        sql.enabled = True
    started = time.perf_counter()
    at.run()
    elapsed = (time.perf_counter() - started) * 1000
    if sql is not None:
        sql.enabled = False
        sql.report(f"{page} cold, {elapsed:.0f} ms")
    if at.exception or any("could not be shown" in str(e.value) for e in at.error):
        raise RuntimeError(f"page {page} failed: {at.exception or [e.value for e in at.error]}")
    noted = any("Figures as of" in str(c.value) for c in at.caption)
    if kept and page in SNAPSHOT_PAGES and not noted:
        raise RuntimeError(f"page {page} did not read the snapshot (it is stale or missing)")
    if not kept and noted:
        raise RuntimeError(f"page {page} read a snapshot in a live measurement")
    return elapsed


class StatementTimes:
    """Every statement's time while enabled, printed per page (--sql)."""

    def __init__(self) -> None:
        self.enabled = False
        self.times: list[tuple[float, str]] = []
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.enabled:
            elapsed = (time.perf_counter() - conn.info.pop("bench_started")) * 1000
            self.times.append((elapsed, " ".join(statement.split())))

    def report(self, title: str) -> None:
        total = sum(ms for ms, _ in self.times)
        progress(f"  {title}: {len(self.times)} statements, {total:.0f} ms")
        for ms, statement in sorted(self.times, reverse=True)[:12]:
            progress(f"    {ms:8.1f} ms  {statement[:300]}")
        self.times = []


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(
    url: str,
    orgs: int,
    volumes: Volumes,
    *,
    kept: bool = False,
    pages: tuple[str, ...] = PAGES,
    sql: StatementTimes | None = None,
) -> Result:
    backend = make_url(url).get_backend_name()
    if kept:
        rows, build_seconds = reuse(url)
        progress(f"{backend}: reused {sum(rows.values()):,} rows ({build_seconds:.0f} s)")
    else:
        rows, build_seconds = build(url, orgs, volumes)
        progress(f"{backend}: built {sum(rows.values()):,} rows in {build_seconds:.0f} s")
    os.environ["SWITCHOVER_DATABASE_URL"] = url
    os.environ["SWITCHOVER_DASHBOARD_PASSWORD"] = "benchmark-password"
    os.environ["SWITCHOVER_CLOCK_AT"] = NOW
    from dashboard import runtime
    from domain.dashboard_refresh import refresh_dashboard

    cold, warm, from_snapshot = {}, {}, {}
    # Live: no snapshot is read (as a dashboard without the refresh flow).
    os.environ[MAX_AGE] = "0"
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        render("overview", cold=True)  # opens the engine, imports the page modules
        for page in pages:
            cold[page] = statistics.median(render(page, cold=True, sql=sql) for _ in range(REPEATS))
            warm[page] = render(page, cold=False)
            progress(f"{backend}: {page} {cold[page]:.0f} ms cold live, {warm[page]:.0f} ms warm")
    finally:
        runtime.app().close()
        st.cache_resource.clear()
    # Snapshot: the refresh (timed) keeps the figures, the pages read them.
    os.environ[MAX_AGE] = "300"
    st.cache_data.clear()
    try:
        app = runtime.app()  # the dashboard's clock: the refresh stands where the pages stand
        refreshes = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            parts = refresh_dashboard(app)
            refreshes.append(((time.perf_counter() - started) * 1000, parts))
        refresh_ms, refresh_parts = sorted(refreshes, key=lambda r: r[0])[REPEATS // 2]
        progress(
            f"{backend}: refresh {refresh_ms:.0f} ms ("
            + ", ".join(f"{n} {s * 1000:.0f}" for n, s in refresh_parts.items())
            + ")"
        )
        render("overview", cold=True, kept=True)
        for page in pages:
            from_snapshot[page] = statistics.median(
                render(page, cold=True, sql=sql, kept=True) for _ in range(REPEATS)
            )
            progress(f"{backend}: {page} {from_snapshot[page]:.0f} ms cold from the snapshot")
        count_ms = time_count(url)
    finally:
        runtime.app().close()
        st.cache_resource.clear()
        os.environ.pop(MAX_AGE, None)
    return Result(
        backend,
        rows,
        build_seconds,
        count_ms,
        cold,
        warm,
        from_snapshot,
        refresh_ms,
        {n: s * 1000 for n, s in refresh_parts.items()},
    )


def postgres_database(admin_url: str) -> AbstractContextManager[str]:
    return scratch_postgres_database(admin_url, prefix="switchover_bench")


def kept_sqlite(orgs: int, volumes: Volumes, size: str) -> str:
    """URL of the kept SQLite world, built (under a temporary name) if missing."""
    path = Path(tempfile.gettempdir()) / f"switchover-bench-dashboard-{size}.db"
    if path.exists():
        return f"sqlite:///{path}"
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    rows, seconds = build(f"sqlite:///{partial}", orgs, volumes)
    progress(f"sqlite: built {sum(rows.values()):,} rows in {seconds:.0f} s, kept in {path}")
    partial.rename(path)
    return f"sqlite:///{path}"


def kept_postgres(admin_url: str, orgs: int, volumes: Volumes, size: str) -> str:
    """URL of the kept PostgreSQL world, built (under a temporary name) if missing."""
    url = make_url(normalize_database_url(admin_url))
    name = f"switchover_bench_dashboard_{size}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if not found:
                partial = f"{name}_partial"
                connection.execute(text(f'DROP DATABASE IF EXISTS "{partial}" WITH (FORCE)'))
                connection.execute(text(f'CREATE DATABASE "{partial}"'))
                target = url.set(database=partial).render_as_string(hide_password=False)
                rows, seconds = build(target, orgs, volumes)
                progress(f"postgresql: built {sum(rows.values()):,} rows in {seconds:.0f} s")
                connection.execute(text(f'ALTER DATABASE "{partial}" RENAME TO "{name}"'))
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def print_table(results: list[Result]) -> None:
    for r in results:
        data = ", ".join(f"{n:,} {t}" for t, n in r.rows.items())
        print(f"{r.backend}: {data} (built in {r.build_seconds:.0f} s)")
    print("cold ms (x count): live = every figure computed in the render; snapshot = the heavy")
    print("figures read from the dashboard-refresh flow's snapshot; warm = Streamlit cache filled")
    header = f"{'page':<15}" + "".join(
        f"{r.backend + ' live':>24}{r.backend + ' snapshot':>24}{'warm':>8}" for r in results
    )
    print(header)
    print("-" * len(header))
    for page in results[0].cold_ms:
        line = f"{page:<15}"
        for r in results:
            live, kept = r.cold_ms[page], r.snapshot_ms[page]
            line += (
                f"{live:>11.0f} ms ({live / r.count_ms:>5.1f}x)"
                f"{kept:>11.0f} ms ({kept / r.count_ms:>5.1f}x)"
                f"{r.warm_ms[page]:>8.0f}"
            )
        print(line)
    line = f"{'count(*) msgs':<15}"
    for r in results:
        line += f"{r.count_ms:>11.1f} ms{'':>37}"
    print(line)
    line = f"{'refresh (flow)':<15}"
    for r in results:
        line += f"{'':>24}{r.refresh_ms:>11.0f} ms ({r.refresh_ms / r.count_ms:>5.1f}x){'':>8}"
    print(line)
    for r in results:
        parts = ", ".join(f"{n} {ms:.0f}" for n, ms in r.refresh_parts.items())
        print(f"{r.backend} refresh, ms per figure: {parts}")


def _meets(r: Result, times: dict[str, float]) -> bool:
    return all(ms < 1000 and ms <= 10 * r.count_ms for ms in times.values())


def summary(results: list[Result], orgs: int) -> dict[str, object]:
    first = results[0]
    pages = tuple(first.cold_ms)
    slowest = max(pages, key=lambda p: first.snapshot_ms[p])
    slowest_live = max(pages, key=lambda p: first.cold_ms[p])
    line: dict[str, object] = {
        "name": "dashboard_pages",
        "mode": "snapshot (value, ratio: pages reading the dashboard-refresh flow's figures)",
        "value": round(first.snapshot_ms[slowest], 1),
        "unit": "ms",
        "baseline": round(first.count_ms, 2),
        "ratio": round(first.snapshot_ms[slowest] / first.count_ms, 2),
        "target": TARGET,
        "backend": first.backend,
        "slowest_page": slowest,
        "live_value": round(first.cold_ms[slowest_live], 1),
        "live_ratio": round(first.cold_ms[slowest_live] / first.count_ms, 2),
        "live_slowest_page": slowest_live,
        "refresh_ms": round(first.refresh_ms, 1),
        "organizations": orgs,
        "messages": first.rows.get("messages"),
        "pages_ms": {p: round(first.snapshot_ms[p], 1) for p in pages},
        "live_pages_ms": {p: round(first.cold_ms[p], 1) for p in pages},
        "meets_target": pages == PAGES and all(_meets(r, r.snapshot_ms) for r in results),
        "live_meets_target": pages == PAGES and all(_meets(r, r.cold_ms) for r in results),
    }
    for r in results[1:]:
        worst = max(pages, key=lambda p: r.snapshot_ms[p])
        worst_live = max(pages, key=lambda p: r.cold_ms[p])
        line[f"{r.backend}_value"] = round(r.snapshot_ms[worst], 1)
        line[f"{r.backend}_baseline"] = round(r.count_ms, 2)
        line[f"{r.backend}_ratio"] = round(r.snapshot_ms[worst] / r.count_ms, 2)
        line[f"{r.backend}_slowest_page"] = worst
        line[f"{r.backend}_live_value"] = round(r.cold_ms[worst_live], 1)
        line[f"{r.backend}_live_ratio"] = round(r.cold_ms[worst_live] / r.count_ms, 2)
        line[f"{r.backend}_refresh_ms"] = round(r.refresh_ms, 1)
        line[f"{r.backend}_pages_ms"] = {p: round(r.snapshot_ms[p], 1) for p in pages}
        line[f"{r.backend}_live_pages_ms"] = {p: round(r.cold_ms[p], 1) for p in pages}
    return line


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a twentieth of the full volumes")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("SWITCHOVER_BENCH_POSTGRES_URL"),
        help="admin URL of a PostgreSQL server to measure too (a temporary database is used)",
    )
    parser.add_argument("--skip-sqlite", action="store_true", help="measure PostgreSQL only")
    parser.add_argument(
        "--keep", action="store_true", help="keep the built worlds and reuse kept ones"
    )
    parser.add_argument(
        "--pages", nargs="+", choices=PAGES, default=PAGES, help="measure these pages only"
    )
    parser.add_argument("--sql", action="store_true", help="print statement times (cold)")
    args = parser.parse_args()
    factor = QUICK_FACTOR if args.quick else 1.0
    size = "quick" if args.quick else "full"
    orgs, volumes = int(FULL_ORGS * factor), FULL.scaled(factor)
    pages = tuple(p for p in PAGES if p in args.pages)
    sql = StatementTimes() if args.sql else None
    streamlit.logger.set_log_level("error")
    results: list[Result] = []
    try:
        if not args.skip_sqlite:
            if args.keep:
                url = kept_sqlite(orgs, volumes, size)
                results.append(measure(url, orgs, volumes, kept=True, pages=pages, sql=sql))
            else:
                with tempfile.TemporaryDirectory(prefix="switchover-bench-") as directory:
                    url = f"sqlite:///{directory}/dashboard.db"
                    results.append(measure(url, orgs, volumes, pages=pages, sql=sql))
        if args.postgres:
            if args.keep:
                url = kept_postgres(args.postgres, orgs, volumes, size)
                results.append(measure(url, orgs, volumes, kept=True, pages=pages, sql=sql))
            else:
                with postgres_database(args.postgres) as url:
                    results.append(measure(url, orgs, volumes, pages=pages, sql=sql))
        if not results:
            parser.error("nothing to measure: give --postgres or drop --skip-sqlite")
        print_table(results)
        line = summary(results, orgs)
    except Exception as exc:
        print(f"error: could not measure: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
