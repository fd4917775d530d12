"""Benchmark: how fast the outbox renders, queues and delivers a reminder campaign.

    python bench/email_delivery.py            # 20,000 messages, baseline of 1,000
    python bench/email_delivery.py --quick    # 3,000 messages, baseline of 200 (under a minute)
    python bench/email_delivery.py --database-url postgresql://postgres@127.0.0.1:5432/test

1. Renders ``reminder`` emails with the real templates (`render_email`) for N organizations and
   queues them with `enqueue_many`, a thousand per transaction as a campaign flow would.
2. Delivers them with the outbox sender (`drain`) to an SMTP sink running in a separate process
   (bench/_smtp_sink.py), and checks at the sink that every message arrived exactly once.
3. Baseline, same run, same sink: the first messages again, sent the way a Prefect user would
   start — prefect-email's ``email_send_message`` task called once per message inside a flow,
   with an ``EmailServerCredentials`` block pointing at the sink (Prefect runs against a
   temporary API server from ``prefect_test_harness``; its start-up is not timed).

Steps 2 and 3 alternate in rounds (4, or 3 with --quick), so that both sides see the same
machine: on a shared one, load that comes and goes would otherwise favour whichever ran in the
quiet moment.

The last line of output is one JSON object. The exit status is non-zero only when a figure
could not be measured (sink did not start, messages missing at the sink, …), not when a target
is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select as sql_select
from sqlalchemy.engine import make_url

from db import schema
from db.engine import make_engine
from db.enums import Locale
from db.models import Message
from db.scratch import scratch_postgres_database
from domain.clock import SystemClock
from domain.context import App
from domain.emails.outbox import OutboxItem, enqueue_many
from domain.emails.render import render_email
from domain.emails.sender import DeliverySummary, drain
from domain.settings import Settings, normalize_database_url

HERE = Path(__file__).resolve().parent
TARGET = "value >= 1000 and ratio >= 10"
PER_TRANSACTION = 1000
SEGMENTS = ("never_registered", "nothing_verified", "no_verified_admin")


class BenchError(Exception):
    """The benchmark could not measure what it set out to measure."""


@dataclass
class Sink:
    port: int
    process: subprocess.Popen[str]

    def count(self) -> dict[str, int]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        line = _read_line(self.process, timeout=30)
        return dict(json.loads(line))


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        raise BenchError(f"the SMTP sink did not answer within {timeout:.0f} s")
    line = process.stdout.readline()
    if not line:
        raise BenchError(f"the SMTP sink exited (status {process.poll()})")
    return line


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def sink_process() -> Iterator[Sink]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(HERE / "_smtp_sink.py"), "--port", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = _read_line(process, timeout=30)
        if not line.startswith("ready"):
            raise BenchError(f"the SMTP sink did not start: {line.strip()!r}")
        yield Sink(port=port, process=process)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def scratch_database(server_url: str | None, workdir: Path) -> Iterator[str]:
    """A fresh database: a SQLite file, or a throwaway database on the given PostgreSQL."""
    if server_url is None:
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    if make_url(normalize_database_url(server_url)).get_backend_name() != "postgresql":
        yield normalize_database_url(server_url)
        return
    with scratch_postgres_database(server_url, prefix="switchover_bench") as url:
        yield url


def campaign(count: int, settings: Settings) -> Iterator[tuple[OutboxItem, float]]:
    """The T-7 reminder to `count` organizations, with the seconds each rendering took."""
    for n in range(count):
        locale = Locale.JA if n % 3 == 0 else Locale.EN
        context = {
            "organization_name": f"日本テスト海運株式会社 {n}"
            if locale is Locale.JA
            else f"Test Shipping {n} Ltd",
            "login_id": f"NK{n:06d}",
            "segment": SEGMENTS[n % len(SEGMENTS)],
            "days_left": 7,
            "contact_name": "山田 太郎" if locale is Locale.JA else "Taro Yamada",
        }
        started = time.perf_counter()
        rendered = render_email("reminder", locale, context, settings)
        took = time.perf_counter() - started
        item = OutboxItem(
            key=f"reminder:T-7:org:{n}",
            template="reminder",
            locale=locale,
            to_address=f"admin{n}@org{n % 700}.example",
            to_name=str(context["contact_name"]),
            rendered=rendered,
            campaign_step="T-7",
        )
        yield item, took


def render_and_enqueue(app: App, count: int) -> dict[str, float]:
    render_seconds = 0.0
    enqueue_seconds = 0.0
    started = time.perf_counter()
    batch: list[OutboxItem] = []

    def flush() -> float:
        began = time.perf_counter()
        with app.unit_of_work() as session:
            result = enqueue_many(session, batch, clock=app.clock)
        if result.created != len(batch):
            raise BenchError(f"queued {result.created} of {len(batch)} messages")
        batch.clear()
        return time.perf_counter() - began

    for item, took in campaign(count, app.settings):
        render_seconds += took
        batch.append(item)
        if len(batch) == PER_TRANSACTION:
            enqueue_seconds += flush()
    if batch:
        enqueue_seconds += flush()
    total = time.perf_counter() - started
    return {
        "render_enqueue_per_second": count / total,
        "render_per_second": count / render_seconds,
        "enqueue_per_second": count / enqueue_seconds,
        "render_enqueue_seconds": total,
    }


def deliver(app: App, sink: Sink, count: int) -> DeliverySummary:
    """Drain `count` messages and check at the sink that each arrived exactly once."""
    before = sink.count()
    summary = drain(app, limit=count)
    after = sink.count()
    arrived = after["messages"] - before["messages"]
    distinct = after["message_ids"] - before["message_ids"]
    if summary.sent != count or arrived != count or distinct != count or after["duplicates"]:
        raise BenchError(
            f"delivery incomplete: sent {summary.sent}, the sink received {arrived} "
            f"({distinct} distinct Message-IDs, {after['duplicates']} duplicates) of {count}; "
            f"failed {summary.failed}, retried {summary.retried}, relay: {summary.relay_error}"
        )
    return summary


def baseline_messages(app: App, count: int) -> list[dict[str, str]]:
    with app.sessions() as session:
        rows = session.execute(
            sql_select(Message.subject, Message.body_text, Message.body_html, Message.to_address)
            .order_by(Message.id)
            .limit(count)
        ).all()
    return [
        {"subject": subject, "msg_plain": body_text, "msg": body_html, "email_to": to_address}
        for subject, body_text, body_html, to_address in rows
    ]


@dataclass
class Comparison:
    sent: int = 0
    seconds: float = 0.0
    connections: int = 0
    baseline_sent: int = 0
    baseline_seconds: float = 0.0


def compare(
    app: App, sink: Sink, count: int, baseline: list[dict[str, str]], rounds: int, log: Path
) -> Comparison:
    """Our sender and prefect-email, in alternating rounds on the same sink.

    Alternating keeps the comparison fair on a machine whose load changes during the run: each
    side gets its share of the quiet and of the busy moments.
    """
    from prefect import flow
    from prefect.testing.utilities import prefect_test_harness
    from prefect_email import EmailServerCredentials, email_send_message  # type: ignore[import-untyped]

    credentials = EmailServerCredentials(
        smtp_server="127.0.0.1", smtp_type="INSECURE", smtp_port=sink.port
    )
    sender = str(app.settings.mail_from)

    @flow(name="prefect-email-baseline")
    async def send_with_prefect_email(start: int, stop: int) -> float:
        # The messages come from the enclosing scope: as flow parameters Prefect would store
        # megabytes of them with the flow run, which is not what is being measured.
        began = time.perf_counter()
        for message in baseline[start:stop]:
            await email_send_message(
                email_server_credentials=credentials, email_from=sender, **message
            )
        return time.perf_counter() - began

    result = Comparison()
    ours = _split(count, rounds)
    theirs = _split(len(baseline), rounds)
    # Prefect logs every task run (and its API server its own chatter): into a file, so that
    # the report stays readable; the logging itself still happens, as it does for users.
    with output_to(log), prefect_test_harness(server_startup_timeout=120):
        for round_ in range(rounds):
            summary = deliver(app, sink, ours[round_])
            result.sent += summary.sent
            result.seconds += summary.seconds
            result.connections += summary.connections

            start = sum(theirs[:round_])
            before = sink.count()["messages"]
            result.baseline_seconds += asyncio.run(
                send_with_prefect_email(start, start + theirs[round_])
            )
            arrived = sink.count()["messages"] - before
            if arrived != theirs[round_]:
                raise BenchError(f"prefect-email delivered {arrived} of {theirs[round_]} messages")
            result.baseline_sent += arrived
    return result


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


@contextmanager
def output_to(path: Path) -> Iterator[None]:
    """Send this process's standard output and error (file descriptors 1 and 2) to `path`."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with path.open("ab") as target:
        os.dup2(target.fileno(), 1)
        os.dup2(target.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Email delivery benchmark (see module doc).")
    parser.add_argument("--quick", action="store_true", help="3,000 messages, baseline of 200")
    parser.add_argument("--messages", type=int, help="messages in the campaign")
    parser.add_argument("--baseline", type=int, help="messages sent with prefect-email")
    parser.add_argument("--database-url", help="PostgreSQL server to use (default: SQLite file)")
    args = parser.parse_args(argv)
    count = args.messages or (3000 if args.quick else 20_000)
    baseline_count = min(args.baseline or (200 if args.quick else 1000), count)
    rounds = 3 if args.quick else 4

    result: dict[str, Any] = {"name": "email_delivery", "unit": "messages/s", "target": TARGET}
    with tempfile.TemporaryDirectory(prefix="switchover-bench-") as tmp:
        workdir = Path(tmp)
        log = workdir / "prefect.log"
        # Prefect keeps its profile and database under PREFECT_HOME: keep the user's untouched.
        # Its other settings stay at their defaults, as a new user would have them.
        os.environ["PREFECT_HOME"] = str(workdir / "prefect")
        try:
            with sink_process() as sink, scratch_database(args.database_url, workdir) as url:
                settings = Settings(
                    _env_file=None,
                    database_url=url,
                    smtp_host="127.0.0.1",
                    smtp_port=sink.port,
                    smtp_security="none",
                    smtp_username=None,
                    mail_rate_per_second=0,
                    mail_batch_size=500,
                )
                engine = make_engine(settings.database_url)
                schema.upgrade(engine)
                app = App(settings=settings, engine=engine, clock=SystemClock())
                try:
                    print(f"rendering and queueing {count:,} reminders …", flush=True)
                    queued = render_and_enqueue(app, count)
                    print(
                        f"  render+enqueue: {queued['render_enqueue_per_second']:,.0f} msg/s "
                        f"(render {queued['render_per_second']:,.0f}/s, "
                        f"enqueue {queued['enqueue_per_second']:,.0f}/s)",
                        flush=True,
                    )
                    print(
                        f"delivering {count:,} with the outbox sender and {baseline_count:,} "
                        f"with prefect-email, in {rounds} alternating rounds, to the sink "
                        f"(pid {sink.process.pid}) …",
                        flush=True,
                    )
                    measured = compare(
                        app,
                        sink,
                        count,
                        baseline_messages(app, baseline_count),
                        rounds,
                        log,
                    )
                finally:
                    engine.dispose()
        except BenchError as exc:
            print(f"error: {exc}", file=sys.stderr)
            if log.exists():
                tail = log.read_text(errors="replace").splitlines()[-20:]
                print("\n".join(["last lines of the Prefect log:", *tail]), file=sys.stderr)
            print(json.dumps(result | {"value": None, "error": str(exc)}))
            return 1
    value = measured.sent / measured.seconds
    baseline = measured.baseline_sent / measured.baseline_seconds
    print(
        f"  outbox sender: {measured.sent:,} in {measured.seconds:.2f} s = {value:,.0f} msg/s "
        f"({measured.connections} SMTP connection(s), one per round)"
    )
    print(
        f"  prefect-email: {measured.baseline_sent:,} in {measured.baseline_seconds:.2f} s = "
        f"{baseline:,.1f} msg/s (one task call and one SMTP connection per message)"
    )
    ratio = value / baseline
    result |= {
        "value": round(value, 1),
        "baseline": round(baseline, 1),
        "ratio": round(ratio, 1),
        "met": value >= 1000 and ratio >= 10,
        "messages": count,
        "baseline_messages": baseline_count,
        "render_enqueue_per_second": round(queued["render_enqueue_per_second"], 1),
        "render_per_second": round(queued["render_per_second"], 1),
        "enqueue_per_second": round(queued["enqueue_per_second"], 1),
        "delivery_seconds": round(measured.seconds, 2),
        "baseline_seconds": round(measured.baseline_seconds, 2),
        "rounds": rounds,
        "batch_size": settings.mail_batch_size,
        "database": make_url(settings.database_url).get_backend_name(),
    }
    print(f"ratio: {ratio:,.1f}x (target: {TARGET})")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
