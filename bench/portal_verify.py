"""Benchmark: the verification link under load — the page (GET) and the confirmation (POST).

    python bench/portal_verify.py            # 10,000 seeded tokens, 100 concurrent clients
    python bench/portal_verify.py --quick    # 2,000 tokens
    python bench/portal_verify.py --workers 2 --database-url postgresql://postgres@127.0.0.1:5432/test
    python bench/portal_verify.py --concurrency 100,10   # also at 10 (10,000 more tokens)

1. Seeds N pending registrations per concurrency level, each with a live verification token
   (bulk inserts; only the tokens' SHA-256 is stored, as the portal does).
2. Starts the portal with ``switchover portal --workers N`` in a subprocess on a free loopback
   port (log level warning: no access log).
3. Drives it with C concurrent keep-alive clients, in rounds (default 5) so that all three phases
   share the machine's ups and downs (it is shared; ratios measured side by side are what count):
   - ``GET /healthz`` (one ``SELECT 1`` through the same middleware): the ceiling;
   - ``GET /verify/{token}`` (the page a link scanner or a person opens);
   - ``POST /verify/{token}``, each token once (each confirms one registration).
   Each phase prints requests/second and p50/p99 latency; every answer must be 200 and, after
   the POSTs, every registration must be verified in the database.

The driver is wrk (Debian: ``apt-get install wrk``) with ``bench/wrk_paths.lua``, which gives
each request the next path of a list and stops when all are answered: wrk is written in C and
leaves the CPU to the server. Without wrk (or with ``--driver httpx``) an asyncio httpx driver
in this process does the same, at the cost of about one core of a small machine; the output says
which driver ran.

Target: p99 under 50 ms for the confirmations at 100 concurrent clients, and confirmation
throughput at least half of the health endpoint's. The last line of output is one JSON object
(for the first concurrency level); the exit status is non-zero only when something could not be
measured, not when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

from db import schema
from db.engine import make_engine
from db.enums import Locale, RegistrationStatus, Role, TokenPurpose
from db.models import Organization, Registration, VerificationToken
from db.scratch import scratch_postgres_database
from domain.settings import normalize_database_url
from domain.tokens import new_token, token_hash

ROOT = Path(__file__).resolve().parent.parent
WRK_SCRIPT = Path(__file__).resolve().parent / "wrk_paths.lua"
TARGET = "p99 < 50 ms at 100 concurrent and ratio >= 0.5"
PER_ORGANIZATION = 20
ROLES = (Role.ADMINISTRATOR, Role.NORMAL, Role.NORMAL, Role.VISITOR)


class BenchError(Exception):
    """The benchmark could not measure what it set out to measure."""


@dataclass
class Phase:
    """Requests of one kind, summed over rounds; latencies as (milliseconds, weight) samples."""

    name: str
    requests: int = 0
    seconds: float = 0.0
    samples: list[tuple[float, float]] = field(default_factory=list)
    server_cpu: float = 0.0  # CPU seconds of the portal's processes (not the database server's)

    def add(self, run: Run, server_cpu: float) -> None:
        self.requests += run.requests
        self.seconds += run.seconds
        self.samples.extend(run.samples)
        self.server_cpu += server_cpu

    @property
    def cpu_ms(self) -> float:
        """Portal CPU per request: what the phase costs, whatever else the machine is doing."""
        return self.server_cpu / self.requests * 1000

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.samples)
        wanted = share * sum(weight for _, weight in ordered)
        running = 0.0
        for value, weight in ordered:
            running += weight
            if running >= wanted:
                return value
        return ordered[-1][0]

    def line(self) -> str:
        return (
            f"{self.name:<22} {self.requests:>7,} requests  {self.per_second:>8,.0f} req/s  "
            f"p50 {self.percentile(0.50):7.1f} ms  p99 {self.percentile(0.99):7.1f} ms  "
            f"CPU {self.cpu_ms:5.2f} ms/req"
        )


@contextmanager
def scratch_database(server_url: str | None, workdir: Path) -> Iterator[str]:
    """A fresh database: a SQLite file, or a throwaway database on the given PostgreSQL."""
    if server_url is None:
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    if make_url(normalize_database_url(server_url)).get_backend_name() != "postgresql":
        raise BenchError("--database-url must name a PostgreSQL server")
    with scratch_postgres_database(server_url, prefix="switchover_bench") as url:
        yield url


def seed(database_url: str, count: int) -> list[str]:
    """`count` pending registrations with one live link each; returns the raw tokens."""
    engine = make_engine(database_url)
    schema.upgrade(engine)
    now = dt.datetime.now(dt.UTC)
    raw_tokens = [new_token() for _ in range(count)]
    organizations = -(-count // PER_ORGANIZATION)
    with engine.begin() as connection:
        connection.execute(
            insert(Organization),
            [
                {
                    "id": n + 1,
                    "legacy_login_id": f"NK{n + 1:06d}",
                    "name": f"Bench Shipping {n + 1} Ltd",
                    "name_local": f"ベンチ海運{n + 1}株式会社",
                    "country": "JP",
                    "locale": Locale.JA if n % 3 == 0 else Locale.EN,
                    "password_hash": "not-used",
                    "legacy_login_enabled": True,
                    "created_at": now,
                }
                for n in range(organizations)
            ],
        )
        connection.execute(
            insert(Registration),
            [
                {
                    "id": n + 1,
                    "organization_id": n // PER_ORGANIZATION + 1,
                    "email": f"person{n}@org{n // PER_ORGANIZATION}.example",
                    "email_display": f"person{n}@org{n // PER_ORGANIZATION}.example",
                    "name": f"Person {n}",
                    "role": ROLES[n % len(ROLES)],
                    "status": RegistrationStatus.PENDING,
                    "submitted_at": now,
                    "submitted_by": "bench",
                    "status_changed_at": now,
                }
                for n in range(count)
            ],
        )
        connection.execute(
            insert(VerificationToken),
            [
                {
                    "purpose": TokenPurpose.VERIFY_EMAIL,
                    "token_hash": token_hash(raw),
                    "registration_id": n + 1,
                    "created_at": now,
                    "expires_at": now + dt.timedelta(days=14),
                }
                for n, raw in enumerate(raw_tokens)
            ],
        )
        if connection.dialect.name == "postgresql":
            # Explicit ids leave the sequences behind; the portal's inserts (audit) need them.
            for table in ("organizations", "registrations"):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    engine.dispose()
    return raw_tokens


def verified_count(database_url: str) -> int:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        count = connection.scalar(
            select(func.count())
            .select_from(Registration)
            .where(Registration.status == RegistrationStatus.VERIFIED)
        )
    engine.dispose()
    return int(count or 0)


@contextmanager
def portal_server(database_url: str, workers: int, workdir: Path) -> Iterator[tuple[str, int]]:
    with httpx.Client() as probe_client:
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHOVER_")}
        env |= {
            "SWITCHOVER_DATABASE_URL": database_url,
            "SWITCHOVER_PORTAL_BASE_URL": base,
            "SWITCHOVER_PORTAL_SECRET_KEY": "bench-" + uuid.uuid4().hex * 2,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        # As production serves it: `switchover portal` (its uvicorn set-up, its workers).
        command = [
            sys.executable,
            "-m",
            "cli.main",
            "portal",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ]
        process = subprocess.Popen(command, cwd=workdir, env=env)
        try:
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None:
                    raise BenchError(f"the portal exited with status {process.returncode}")
                try:
                    if probe_client.get(base + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise BenchError("the portal did not answer /healthz within 120 s")
                time.sleep(0.2)
            yield base, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    samples: list[tuple[float, float]]


class WrkDriver:
    """wrk with bench/wrk_paths.lua: one thread, C connections, each path requested once."""

    name = "wrk"

    def __init__(self, executable: str, workdir: Path) -> None:
        self.executable = executable
        self.workdir = workdir

    def run(self, base: str, method: str, paths: list[str], concurrency: int) -> Run:
        listing = self.workdir / "paths.txt"
        listing.write_text("".join(path + "\n" for path in paths))
        limit = 60 + len(paths) // 20  # a bound, not a target: 20 requests/s at the very least
        command = [
            self.executable,
            "-t1",
            f"-c{concurrency}",
            f"-d{limit}s",
            "--timeout",
            "60s",
            "-s",
            str(WRK_SCRIPT),
            base,
            "--",
            method,
            str(listing),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit + 60)
        fields: dict[str, list[str]] = {}
        quantiles: list[float] = []
        for line in done.stdout.splitlines():
            key, _, rest = line.partition(" ")
            if key == "QUANTILE":
                quantiles.append(int(rest.split()[1]) / 1000)
            elif key in ("SECONDS", "ANSWERED", "FAILED", "SOCKET_ERRORS"):
                fields[key] = rest.split()
        if done.returncode != 0 or "ANSWERED" not in fields or not quantiles:
            tail = (done.stdout + done.stderr).strip()[-500:]
            raise BenchError(f"wrk failed (status {done.returncode}): {tail}")
        answered = int(fields["ANSWERED"][0])
        failed = int(fields["FAILED"][0])
        if failed or answered != len(paths) or int(fields["SOCKET_ERRORS"][0]):
            first = fields["FAILED"][1:] or ["?"]
            raise BenchError(
                f"{method}: {answered:,} of {len(paths):,} answered, {failed:,} not 200 "
                f"(first: {first[0]}), socket errors {fields['SOCKET_ERRORS'][0]}"
            )
        weight = answered / len(quantiles)
        return Run(answered, float(fields["SECONDS"][0]), [(q, weight) for q in quantiles])


class HttpxDriver:
    """An asyncio httpx driver in this process: one client and connection per visitor."""

    name = "httpx"

    def run(self, base: str, method: str, paths: list[str], concurrency: int) -> Run:
        return asyncio.run(self._run(base, method, paths, concurrency))

    async def _run(self, base: str, method: str, paths: list[str], concurrency: int) -> Run:
        queue: asyncio.Queue[str] = asyncio.Queue()
        for path in paths:
            queue.put_nowait(path)
        latencies: list[float] = []
        failures: list[str] = []
        connected = 0
        everyone_connected = asyncio.Event()

        # Each simulated visitor has its own client and keep-alive connection, as browsers do
        # (one shared pool would measure httpx's pool lock more than the portal). Connections
        # are opened before the clock starts: this measures requests, not TCP set-up.
        async def visitor() -> None:
            nonlocal connected
            async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                await client.get("/healthz")
                connected += 1
                if connected == concurrency:
                    everyone_connected.set()
                await everyone_connected.wait()
                while True:
                    try:
                        path = queue.get_nowait()
                    except asyncio.QueueEmpty:
                        return
                    started = time.perf_counter()
                    response = await client.request(method, path)
                    latencies.append(time.perf_counter() - started)
                    if response.status_code != 200:
                        failures.append(f"{method} {path[:20]}…: {response.status_code}")

        visitors = [asyncio.create_task(visitor()) for _ in range(concurrency)]
        await everyone_connected.wait()
        began = time.perf_counter()
        await asyncio.gather(*visitors)
        seconds = time.perf_counter() - began
        if failures:
            raise BenchError(f"{len(failures)} failed requests, e.g. {failures[:3]}")
        return Run(len(paths), seconds, [(latency * 1000, 1.0) for latency in latencies])


Driver = WrkDriver | HttpxDriver


def pick_driver(choice: str, workdir: Path) -> Driver:
    wrk = shutil.which("wrk")
    if choice == "wrk" and wrk is None:
        raise BenchError("--driver wrk: no wrk on PATH (Debian: apt-get install wrk)")
    if choice == "httpx" or wrk is None:
        return HttpxDriver()
    return WrkDriver(wrk, workdir)


def tree_cpu_seconds(pid: int) -> float:
    """User and system CPU of a process and its descendants (Linux /proc), in seconds."""
    ticks = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except OSError:
            continue  # gone meanwhile
        fields = stat.rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
        for task in tasks:
            try:
                pending.extend(int(child) for child in (task / "children").read_text().split())
            except OSError:
                continue
    return ticks / os.sysconf("SC_CLK_TCK")


def chunks(items: list[str], count: int) -> list[list[str]]:
    size = -(-len(items) // count)
    return [items[n : n + size] for n in range(0, len(items), size)]


def measure(
    driver: Driver, base: str, server: int, tokens: list[str], concurrency: int, rounds: int
) -> list[Phase]:
    """Health, page and confirmation, interleaved in `rounds` rounds over the same tokens."""
    paths = [f"/verify/{raw}" for raw in tokens]
    # Warm-up: connections, imports, template compilation, the database's caches.
    driver.run(base, "GET", ["/healthz"] * 500 + paths[:200], concurrency)
    ceiling = Phase("GET /healthz")
    page = Phase("GET /verify/{token}")
    confirm = Phase("POST /verify/{token}")
    for share in chunks(paths, rounds):
        for phase, method, batch in (
            (ceiling, "GET", ["/healthz"] * len(share)),
            (page, "GET", share),
            (confirm, "POST", share),
        ):
            cpu_before = tree_cpu_seconds(server)
            try:
                run = driver.run(base, method, batch, concurrency)
            except BenchError as exc:
                raise BenchError(f"{phase.name} at {concurrency} concurrent: {exc}") from None
            phase.add(run, tree_cpu_seconds(server) - cpu_before)
    return [ceiling, page, confirm]


def server_stack() -> tuple[str, str]:
    """What uvicorn picks for the portal: httptools and uvloop when they are installed."""
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return http, loop


def concurrency_levels(text: str) -> list[int]:
    try:
        levels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError("concurrency levels must be positive")
    return levels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verification link benchmark (see module doc).")
    parser.add_argument("--quick", action="store_true", help="2,000 tokens instead of 10,000")
    parser.add_argument("--tokens", type=int, help="tokens (confirmations) per concurrency level")
    parser.add_argument(
        "--concurrency",
        type=concurrency_levels,
        default=[100],
        help="concurrent clients, or a comma-separated list; the first is reported in JSON",
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--rounds", type=int, default=5, help="rounds the phases alternate in")
    parser.add_argument("--driver", choices=("auto", "wrk", "httpx"), default="auto")
    parser.add_argument("--database-url", help="PostgreSQL server to use (default: SQLite file)")
    args = parser.parse_args(argv)
    count = args.tokens or (2_000 if args.quick else 10_000)
    levels: list[int] = args.concurrency
    results: dict[int, list[Phase]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp:
            workdir = Path(tmp)
            driver = pick_driver(args.driver, workdir)
            with scratch_database(args.database_url, workdir) as database_url:
                backend = make_url(database_url).get_backend_name()
                started = time.perf_counter()
                tokens = seed(database_url, count * len(levels))
                print(
                    f"seeded {len(tokens):,} tokens on {backend} "
                    f"in {time.perf_counter() - started:.1f} s"
                )
                with portal_server(database_url, args.workers, workdir) as (base, pid):
                    for n, level in enumerate(levels):
                        share = tokens[n * count : (n + 1) * count]
                        results[level] = measure(driver, base, pid, share, level, args.rounds)
                confirmed = verified_count(database_url)
                if confirmed != len(tokens):
                    raise BenchError(f"{confirmed:,} of {len(tokens):,} registrations verified")
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    http, loop = server_stack()
    print(
        f"driver {driver.name}; uvicorn: {args.workers} worker(s), {http}, {loop}; {backend}; "
        f"{count:,} tokens per level in {args.rounds} rounds"
    )
    for level, phases in results.items():
        ceiling, _, confirm = phases
        print(f"concurrency {level}")
        for phase in phases:
            print("  " + phase.line())
        print(
            f"  confirmations: {confirm.per_second / ceiling.per_second:.2f} of the ceiling's "
            f"throughput; CPU per request {ceiling.cpu_ms / confirm.cpu_ms:.2f} of its"
        )
    ceiling, page, confirm = results[levels[0]]
    ratio = confirm.per_second / ceiling.per_second
    p99 = confirm.percentile(0.99)
    met = p99 < 50 and ratio >= 0.5 and levels[0] >= 100
    print(
        f"at {levels[0]} concurrent: confirm p99 {p99:.1f} ms, {ratio:.2f} of the ceiling; "
        f"target {'met' if met else 'missed'}"
    )
    print(
        json.dumps(
            {
                "name": "portal_verify",
                "value": round(confirm.per_second, 1),
                "unit": "req/s",
                "baseline": round(ceiling.per_second, 1),
                "ratio": round(ratio, 3),
                "target": TARGET,
                "met": met,
                "p99_ms": round(p99, 1),
                "p50_ms": round(confirm.percentile(0.5), 1),
                "page_req_s": round(page.per_second, 1),
                "page_p99_ms": round(page.percentile(0.99), 1),
                "healthz_p50_ms": round(ceiling.percentile(0.5), 1),
                "healthz_p99_ms": round(ceiling.percentile(0.99), 1),
                "confirm_cpu_ms": round(confirm.cpu_ms, 2),
                "healthz_cpu_ms": round(ceiling.cpu_ms, 2),
                "cpu_ratio": round(ceiling.cpu_ms / confirm.cpu_ms, 3),
                "tokens": count,
                "concurrency": levels[0],
                "workers": args.workers,
                "database": backend,
                "driver": driver.name,
                "http": http,
                "loop": loop,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
