"""Bulk data for the dashboard benchmark: registrations, messages, waves, helpdesk contacts and
audit events on top of a seeded population, written with COPY (PostgreSQL) or the driver's
executemany (SQLite) — a million messages in seconds, not the hours ORM inserts would take.

Shapes follow the campaign: every organization got the announcement, the reminder steps went to
fewer and fewer (the not-ready ones), every registration got its verification link, verified
people a confirmation, and follow-up went to the stragglers. Bodies are short: the dashboard
never reads them, and a million real ones would fill the disk of this machine.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, text

from db.models import Organization

UTC = dt.UTC
OPENS = dt.datetime(2025, 6, 14, 15, 0, tzinfo=UTC)  # 15 June 00:00 in Tokyo
STEPS = (("T-60", 16), ("T-30", 46), ("T-14", 62), ("T-7", 69), ("T-3", 73), ("T-1", 75))
BATCH = 20_000

REGISTRATION_COLUMNS = (
    "id", "organization_id", "email", "email_display", "name", "role", "status", "source",
    "submitted_at", "submitted_by", "verified_at", "status_changed_at",
)  # fmt: skip
MESSAGE_COLUMNS = (
    "id", "idempotency_key", "template", "locale", "to_address", "subject", "body_text",
    "body_html", "organization_id", "registration_id", "campaign_step", "status", "attempts",
    "created_at", "next_attempt_at", "sent_at",
)  # fmt: skip
AUDIT_COLUMNS = (
    "id", "occurred_at", "actor", "action", "entity_type", "entity_id", "organization_id",
)  # fmt: skip
HELPDESK_COLUMNS = (
    "id", "channel", "received_at", "sender_email", "organization_id", "category", "status",
    "subject", "body", "first_response_at", "resolved_at",
)  # fmt: skip
STATUS_WEIGHTS = (
    ("verified", 60), ("pending", 24), ("expired", 7), ("withdrawn", 3), ("bounced", 3),
    ("migrated", 3),
)  # fmt: skip


@dataclass(frozen=True)
class Volumes:
    registrations: int
    messages: int
    helpdesk: int

    def scaled(self, factor: float) -> Volumes:
        return Volumes(*(max(1, int(n * factor)) for n in (
            self.registrations, self.messages, self.helpdesk
        )))  # fmt: skip


class Writer:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"

    def instant(self, value: dt.datetime | None) -> Any:
        if value is None or self.postgres:
            return value
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def write(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.postgres:
            raw = self.connection.connection.driver_connection
            assert raw is not None
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            self.connection.exec_driver_sql(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", list(rows)
            )


def _batches(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def populate(connection: Connection, volumes: Volumes, seed: int = 7) -> dict[str, int]:
    """Add the rows to a seeded database in the caller's transaction; returns rows per table."""
    rnd = random.Random(seed)
    w = Writer(connection)
    orgs = [
        (oid, locale)
        for oid, locale in connection.execute(
            select(Organization.id, Organization.locale).order_by(Organization.id)
        )
    ]
    # Registrations: 70 % of organizations register, the others' share goes to the rest.
    registering = rnd.sample(orgs, int(len(orgs) * 0.7))
    per_org = max(1, volumes.registrations // max(1, len(registering)))
    statuses = [s for s, weight in STATUS_WEIGHTS for _ in range(weight)]
    registrations: list[tuple[int, int, dt.datetime, str]] = []  # id, org, submitted, status

    def registration_rows() -> Iterator[tuple[Any, ...]]:
        rid = 0
        for index, (oid, _locale) in enumerate(registering):
            extra = volumes.registrations - per_org * len(registering)
            count = per_org + (1 if index < extra else 0)
            for n in range(count):
                rid += 1
                # Most organizations register early; a second wave comes near the close.
                day = min(rnd.expovariate(1 / 18), 89)
                submitted = OPENS + dt.timedelta(days=day, seconds=rnd.randrange(86_400))
                status = statuses[rnd.randrange(len(statuses))]
                role = "administrator" if n == 0 else rnd.choice(("normal", "normal", "visitor"))
                verified = (
                    submitted + dt.timedelta(hours=rnd.randrange(1, 72))
                    if status in ("verified", "migrated")
                    else None
                )
                registrations.append((rid, oid, submitted, status))
                email = f"p{rid}@org{oid}.example"
                yield (
                    rid, oid, email, email, f"Person {rid}", role, status, "portal",
                    w.instant(submitted), f"org:{oid}", w.instant(verified),
                    w.instant(verified or submitted),
                )  # fmt: skip

    counts = {"registrations": 0, "messages": 0, "audit_events": 0, "helpdesk_contacts": 0}
    for batch in _batches(registration_rows()):
        w.write("registrations", REGISTRATION_COLUMNS, batch)
        counts["registrations"] += len(batch)

    def audit_rows() -> Iterator[tuple[Any, ...]]:
        for rid, oid, submitted, _status in registrations:
            yield (
                rid, w.instant(submitted), f"org:{oid}", "registration.submitted",
                "registration", rid, oid,
            )  # fmt: skip

    for batch in _batches(audit_rows()):
        w.write("audit_events", AUDIT_COLUMNS, batch)
        counts["audit_events"] += len(batch)

    def message_rows() -> Iterator[tuple[Any, ...]]:
        mid = 0
        states = ["sent"] * 95 + ["failed"] * 2 + ["bounced"] * 2 + ["queued"]

        def message(
            key: str, template: str, locale: str, oid: int, rid: int | None,
            step: str | None, at: dt.datetime,
        ) -> tuple[Any, ...]:  # fmt: skip
            nonlocal mid
            mid += 1
            status = states[mid % len(states)]
            sent = at + dt.timedelta(minutes=5) if status in ("sent", "bounced") else None
            return (
                mid, key, template, locale, f"c{oid}@org{oid}.example", "Subject",
                "Body", "<p>Body</p>", oid, rid, step, status, 1 if sent else 0,
                w.instant(at), w.instant(at), w.instant(sent),
            )  # fmt: skip

        budget = volumes.messages
        # Transactional mail first: a verification link per registration, then confirmations.
        for rid, oid, submitted, status in registrations:
            if budget <= 0:
                return
            yield message(f"verification:{rid}", "verification", "en", oid, rid, None, submitted)
            budget -= 1
            if status in ("verified", "migrated") and budget > 0:
                yield message(
                    f"confirmed:{rid}", "registration_confirmed", "en", oid, rid, None,
                    submitted + dt.timedelta(hours=2),
                )  # fmt: skip
                budget -= 1
        # Campaign steps to shrinking audiences, two contacts each, until the budget is spent.
        audience = list(orgs)
        rounds = (("T-90", 1), *STEPS)
        for number, (step, day) in enumerate(rounds):
            at = OPENS + dt.timedelta(days=day, hours=9)
            share = max(0.15, 1.0 - 0.15 * number)
            for oid, locale in audience[: int(len(audience) * share)]:
                for contact in (1, 2):
                    if budget <= 0:
                        return
                    template = "announcement" if step == "T-90" else "reminder"
                    yield message(
                        f"{template}:{step}:org:{oid}:{contact}", template, str(locale), oid,
                        None, step, at,
                    )  # fmt: skip
                    budget -= 1
        # Whatever is left: follow-up after the close.
        step_number = 0
        while budget > 0:
            step = ("followup:close_plus_1", "followup:close_plus_7", "followup:after_switch")[
                step_number % 3
            ]
            at = OPENS + dt.timedelta(days=92 + 6 * (step_number % 3), hours=9)
            for oid, locale in audience[::3]:
                if budget <= 0:
                    return
                yield message(
                    f"followup:{step}:{step_number}:org:{oid}", "followup", str(locale), oid,
                    None, step, at,
                )  # fmt: skip
                budget -= 1
            step_number += 1

    for batch in _batches(message_rows()):
        w.write("messages", MESSAGE_COLUMNS, batch)
        counts["messages"] += len(batch)

    categories = ("cannot_log_in", "email_not_received", "link_expired", "wrong_organization",
                  "add_or_remove_user", "other")  # fmt: skip
    helpdesk = []
    for hid in range(1, volumes.helpdesk + 1):
        received = OPENS + dt.timedelta(seconds=rnd.randrange(80 * 86_400))
        status = rnd.choice(("new", "open", "waiting_on_customer", "resolved", "closed", "closed"))
        answered = received + dt.timedelta(hours=rnd.uniform(0.2, 60)) if status != "new" else None
        resolved = (
            answered + dt.timedelta(hours=rnd.uniform(1, 90))
            if answered and status in ("resolved", "closed")
            else None
        )
        oid = rnd.choice(orgs)[0] if rnd.random() < 0.7 else None
        helpdesk.append((
            hid, rnd.choice(("form", "mailbox", "phone")), w.instant(received),
            f"h{hid}@example.com", oid, rnd.choice(categories), status, f"Request {hid}",
            "Please help.", w.instant(answered), w.instant(resolved),
        ))  # fmt: skip
    w.write("helpdesk_contacts", HELPDESK_COLUMNS, helpdesk)
    counts["helpdesk_contacts"] = len(helpdesk)

    counts["migration_items"] = _waves(connection, w, [oid for oid, _ in orgs], rnd)
    if w.postgres:
        for table in ("registrations", "messages", "audit_events", "helpdesk_contacts"):
            connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
            )
    return counts


def _waves(connection: Connection, w: Writer, org_ids: list[int], rnd: random.Random) -> int:
    """A canary and four waves over a fifth of the organizations, one of them rolled back."""
    start = dt.datetime(2025, 9, 27, 15, 0, tzinfo=UTC)
    chosen = org_ids[: max(5, len(org_ids) // 5)]
    size = max(1, len(chosen) // 5)
    rows = []
    item_id = 0
    for position in range(5):
        name = "canary" if position == 0 else f"wave-{position}"
        status = ("completed", "completed", "rolled_back", "running", "planned")[position]
        connection.execute(
            text(
                "INSERT INTO migration_waves (id, name, position, status, created_at, "
                "started_at, finished_at, rolled_back_at) VALUES (:id, :name, :position, "
                ":status, :created, :started, :finished, :rolled)"
            ),
            {
                "id": position + 1, "name": name, "position": position, "status": status,
                "created": w.instant(start), "started": w.instant(start),
                "finished": w.instant(start) if status == "completed" else None,
                "rolled": w.instant(start) if status == "rolled_back" else None,
            },
        )  # fmt: skip
        for oid in chosen[position * size : (position + 1) * size]:
            item_id += 1
            item = {
                "completed": "migrated", "rolled_back": "rolled_back", "planned": "pending",
            }.get(status, rnd.choice(("migrated", "pending", "failed")))  # fmt: skip
            reason = "no verified Administrator" if item == "failed" else None
            rows.append((item_id, position + 1, oid, item, reason, w.instant(start)))
    w.write(
        "migration_items",
        ("id", "wave_id", "organization_id", "status", "reason", "updated_at"),
        rows,
    )
    return len(rows)
