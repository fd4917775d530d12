"""Migrate a range of one wave's items: what happens to each organization on the switch day.

For every organization of the range, together: a person per verified address (an existing person
is reused — one per normalized email across all organizations), a membership with the role that
was registered, the registrations marked migrated, the legacy log-in turned off, and for each
person who has no password yet one activation email with a single-use link (one per person, not
per membership). Organization data and service history are not touched.

Atomic per organization, fast for many: the whole range is first done set-based in one
transaction (a few statements per table for hundreds of organizations, so an organization is
never half-migrated: the range commits or rolls back as one). If anything in it fails, the range
is done again one organization per transaction, so one bad organization fails alone, with its
reason on its item, and the others migrate. Items already migrated are not selected again, and
every write is conditional (registrations still verified, persons not yet there, one live link
per person), so a re-run after a crash or a halt resumes and duplicates nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from db.enums import MigrationItemStatus
from db.inserts import insert_many
from db.models import AuditEvent, MigrationItem, MigrationWave, Organization
from domain.clock import Clock
from domain.context import App
from domain.emails.recipients import RecipientError, check_recipient
from domain.migration import activations, writes
from domain.migration.activation_mail import ActivationRenderer
from domain.migration.writes import RegRow
from domain.settings import Settings

log = logging.getLogger(__name__)

AUDIT = cast(Table, AuditEvent.__table__)
NO_ADMINISTRATOR = "no verified Administrator"
NOTHING_TO_MIGRATE = "no verified registration left to migrate"
FAILURES_KEPT = 50


@dataclass
class BatchResult:
    items: int = 0
    migrated: int = 0
    skipped: int = 0
    failed: int = 0
    registrations: int = 0
    not_migrated: int = 0  # verified registrations left behind, each with a reason
    persons_created: int = 0
    persons_reused: int = 0
    memberships: int = 0
    activation_emails: int = 0
    without_administrator: int = 0
    one_by_one: int = 0  # ranges that fell back to one organization per transaction
    failures: list[tuple[str, str]] = field(default_factory=list)  # (login ID, reason)

    def merge(self, other: BatchResult) -> BatchResult:
        for name in (
            "items",
            "migrated",
            "skipped",
            "failed",
            "registrations",
            "not_migrated",
            "persons_created",
            "persons_reused",
            "memberships",
            "activation_emails",
            "without_administrator",
            "one_by_one",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures.extend(other.failures[: FAILURES_KEPT - len(self.failures)])
        return self


def item_ranges(
    session: Session, wave_id: int, statuses: Sequence[MigrationItemStatus], batch_size: int
) -> list[tuple[int, int]]:
    """(first, last) item ids of the wave's items to do, `batch_size` items a range."""
    ids = session.scalars(
        select(MigrationItem.id)
        .where(MigrationItem.wave_id == wave_id, MigrationItem.status.in_(statuses))
        .order_by(MigrationItem.id)
    ).all()
    return [
        (ids[start], ids[min(start + batch_size, len(ids)) - 1])
        for start in range(0, len(ids), batch_size)
    ]


def migrate_range(
    app: App,
    wave_id: int,
    first_id: int,
    last_id: int,
    statuses: Sequence[MigrationItemStatus],
    renderer: ActivationRenderer,
    *,
    actor: str,
) -> BatchResult:
    """Migrate the range's items; owns its transactions (one for the range, else one per item)."""
    with app.unit_of_work() as session:
        items = _items(session, wave_id, first_id, last_id, statuses)
    if not items:
        return BatchResult()
    for attempt in range(1, RANGE_ATTEMPTS + 1):
        try:
            with app.unit_of_work() as session:
                return migrate_items(
                    session, app.clock, app.settings, wave_id, items, renderer, actor=actor
                )
        except Exception as exc:  # any failure: find the organization(s) at fault one by one
            if transient(exc) and attempt < RANGE_ATTEMPTS:
                log.info("items %s-%s of wave %s: %s; again", first_id, last_id, wave_id, exc)
                continue
            log.warning("items %s-%s of wave %s: %s; one by one", first_id, last_id, wave_id, exc)
            break
    result = BatchResult(one_by_one=1)
    for item_id, organization_id in items:
        try:
            with app.unit_of_work() as session:
                one = migrate_items(
                    session,
                    app.clock,
                    app.settings,
                    wave_id,
                    [(item_id, organization_id)],
                    renderer,
                    actor=actor,
                )
        except Exception as exc:
            with app.unit_of_work() as session:
                one = fail_item(session, app.clock, wave_id, item_id, exc, actor=actor)
        result.merge(one)
    return result


# PostgreSQL ends one of two transactions that wait on each other (a deadlock) or that it
# cannot order (serialization): nothing is wrong with the organizations, the range runs again.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})
RANGE_ATTEMPTS = 3


def transient(exc: BaseException) -> bool:
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in TRANSIENT_SQLSTATES


def _items(
    session: Session,
    wave_id: int,
    first_id: int,
    last_id: int,
    statuses: Sequence[MigrationItemStatus],
) -> list[tuple[int, int]]:
    rows = session.execute(
        select(MigrationItem.id, MigrationItem.organization_id)
        .where(
            MigrationItem.wave_id == wave_id,
            MigrationItem.id.between(first_id, last_id),
            MigrationItem.status.in_(statuses),
        )
        .order_by(MigrationItem.id)
    ).all()
    return [(int(i), int(o)) for i, o in rows]


def describe(exc: BaseException) -> str:
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def fail_item(
    session: Session, clock: Clock, wave_id: int, item_id: int, exc: BaseException, *, actor: str
) -> BatchResult:
    """Record why one organization could not be migrated (nothing of it was kept)."""
    item = session.get_one(MigrationItem, item_id)
    reason = describe(exc)
    item.status = MigrationItemStatus.FAILED
    item.reason = reason
    item.attempts += 1
    item.updated_at = clock.now()
    organization = session.get_one(Organization, item.organization_id)
    session.add(
        AuditEvent(
            occurred_at=clock.now(),
            actor=actor,
            action="migration.organization_failed",
            entity_type="migration_item",
            entity_id=item.id,
            organization_id=item.organization_id,
            details={"wave_id": wave_id, "reason": reason},
        )
    )
    return BatchResult(items=1, failed=1, failures=[(organization.legacy_login_id, reason)])


def migrate_items(
    session: Session,
    clock: Clock,
    settings: Settings,
    wave_id: int,
    items: Sequence[tuple[int, int]],
    renderer: ActivationRenderer,
    *,
    actor: str,
) -> BatchResult:
    """Migrate these (item id, organization id) in the caller's transaction; raises on failure."""
    now = clock.now()
    # Links of a batch share one expiry, cut to the minute the email shows.
    expires_at = now.replace(second=0, microsecond=0) + dt.timedelta(
        hours=settings.activation_token_ttl_hours
    )
    wave_name = session.scalar(select(MigrationWave.name).where(MigrationWave.id == wave_id))
    org_ids = [organization_id for _, organization_id in items]
    orgs = writes.load_organizations(session, org_ids)
    regs = writes.load_verified(session, org_ids)

    result = BatchResult(items=len(items))
    usable: dict[int, list[RegRow]] = defaultdict(list)
    left_behind: dict[int, dict[str, str]] = defaultdict(dict)
    for reg in regs:
        try:
            check_recipient(reg.email)
        except RecipientError as exc:
            left_behind[reg.organization_id][str(reg.id)] = f"address cannot receive email: {exc}"
            continue
        usable[reg.organization_id].append(reg)

    persons = writes.upsert_persons(session, [r for rs in usable.values() for r in rs], now)
    memberships = writes.write_memberships(
        session, usable, persons, {org: item for item, org in items}, now
    )
    migrated_ids = [r.id for rs in usable.values() for r in rs]
    writes.mark_registrations(session, migrated_ids, now)
    writes.disable_legacy(session, [o for o in org_ids if usable.get(o)], now)
    emails = activations.issue_activations(
        session, clock, settings, usable, persons, orgs, renderer, now, expires_at
    )

    item_rows: list[dict[str, Any]] = []
    audit_rows: list[dict[str, Any]] = []
    for item_id, organization_id in items:
        org = orgs[organization_id]
        done = usable.get(organization_id, [])
        behind = left_behind.get(organization_id, {})
        created = sorted({persons.ids[r.email] for r in done} & persons.created)
        details: dict[str, Any] = {
            "registrations": [r.id for r in done],
            "not_migrated": behind,
            "persons_created": created,
            "persons_reused": len({persons.ids[r.email] for r in done}) - len(created),
            "memberships": memberships.by_org.get(organization_id, {}),
            "activation_emails": emails.by_org.get(organization_id, 0),
            "legacy_login_disabled": bool(done) and org.legacy_enabled,
            "at": now.isoformat(),
        }
        if done:
            status = MigrationItemStatus.MIGRATED
            has_admin = organization_id in memberships.with_administrator
            reason = None if has_admin else f"{NO_ADMINISTRATOR}: users cannot be invited yet"
            result.migrated += 1
            result.without_administrator += 0 if has_admin else 1
            action = "migration.organization_migrated"
        elif behind:
            status = MigrationItemStatus.FAILED
            reason = "no verified address can receive email: " + "; ".join(behind.values())
            result.failed += 1
            result.failures.append((org.login_id, reason))
            action = "migration.organization_failed"
        else:
            status = MigrationItemStatus.SKIPPED
            reason = NOTHING_TO_MIGRATE
            result.skipped += 1
            action = "migration.organization_skipped"
        result.not_migrated += len(behind)
        item_rows.append({"id": item_id, "status": status, "reason": reason, "details": details})
        audit_rows.append(
            {
                "occurred_at": now,
                "actor": actor,
                "action": action,
                "entity_type": "migration_item",
                "entity_id": item_id,
                "organization_id": organization_id,
                "details": {
                    "wave": wave_name,
                    "registrations": details["registrations"],
                    "persons_created": created,
                    "not_migrated": len(behind),
                    "legacy_login_disabled": details["legacy_login_disabled"],
                    "activation_emails": details["activation_emails"],
                    **({"reason": reason} if reason else {}),
                },
            }
        )
    writes.record_items(session, item_rows, now)
    insert_many(session, AUDIT, audit_rows)
    result.failures = result.failures[:FAILURES_KEPT]
    result.registrations = len(migrated_ids)
    result.persons_created = len(persons.created)
    result.persons_reused = len(persons.ids) - len(persons.created)
    result.memberships = memberships.written
    result.activation_emails = emails.count
    return result
