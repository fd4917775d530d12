"""Undo one wave: its organizations go back to their shared log-in, its accounts are switched off.

For each migrated item of the wave, set-based per range of items, in one transaction per range:
- the legacy log-in is turned on again (where the wave had turned it off);
- the memberships the wave created are disabled; a person left with no active membership is
  disabled too, their unused activation links revoked and their activation emails not yet sent
  cancelled — a person who also belongs to an organization that is not rolled back keeps that
  membership and their account;
- the registrations the wave migrated are verified again, so re-running the wave migrates them;
- the item is marked rolled back, with an audit event per organization and one for the wave.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, cast

from sqlalchemy import Table, exists, insert, select, update
from sqlalchemy.orm import Session

from db.enums import (
    MembershipStatus,
    MessageStatus,
    MigrationItemStatus,
    PersonStatus,
    RegistrationStatus,
    TokenPurpose,
    WaveStatus,
)
from db.models import (
    AuditEvent,
    Membership,
    Message,
    MigrationItem,
    MigrationWave,
    Organization,
    Person,
    Registration,
    VerificationToken,
)
from domain import audit
from domain.accounts import activation
from domain.clock import Clock
from domain.migration.waves import WaveError
from domain.migration.writes import chunks

AUDIT = cast(Table, AuditEvent.__table__)


@dataclass
class RollbackResult:
    organizations: int = 0
    memberships_disabled: int = 0
    persons_disabled: int = 0
    persons_kept: int = 0  # still members of an organization that was not rolled back
    registrations_restored: int = 0
    legacy_logins_enabled: int = 0
    links_revoked: int = 0
    emails_cancelled: int = 0

    def merge(self, other: RollbackResult) -> RollbackResult:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def find_wave(session: Session, name: str) -> MigrationWave:
    wave = session.scalars(select(MigrationWave).where(MigrationWave.name == name)).first()
    if wave is None:
        names = ", ".join(session.scalars(select(MigrationWave.name)).all()) or "none yet"
        raise WaveError(f"no wave is named {name!r} (waves: {names})")
    return wave


def check_can_roll_back(wave: MigrationWave, *, force: bool) -> None:
    if wave.status is WaveStatus.RUNNING and not force:
        raise WaveError(
            f"wave {wave.name!r} is running; wait for the migration run to end (or, if that run "
            "died, roll back with force)"
        )
    if wave.status is WaveStatus.PLANNED:
        raise WaveError(f"wave {wave.name!r} has not started; there is nothing to roll back")


def item_ranges(session: Session, wave_id: int, batch_size: int) -> list[tuple[int, int]]:
    ids = session.scalars(
        select(MigrationItem.id)
        .where(
            MigrationItem.wave_id == wave_id, MigrationItem.status == MigrationItemStatus.MIGRATED
        )
        .order_by(MigrationItem.id)
    ).all()
    return [
        (ids[i], ids[min(i + batch_size, len(ids)) - 1]) for i in range(0, len(ids), batch_size)
    ]


def roll_back_items(
    session: Session,
    clock: Clock,
    wave: MigrationWave,
    first_id: int,
    last_id: int,
    *,
    reason: str,
    actor: str,
) -> RollbackResult:
    """Roll back the wave's migrated items with ids in the range; the caller commits."""
    now = clock.now()
    items = session.scalars(
        select(MigrationItem).where(
            MigrationItem.wave_id == wave.id,
            MigrationItem.id.between(first_id, last_id),
            MigrationItem.status == MigrationItemStatus.MIGRATED,
        )
    ).all()
    result = RollbackResult(organizations=len(items))
    if not items:
        return result
    item_ids = [item.id for item in items]
    registrations = [r for item in items for r in (item.details or {}).get("registrations", [])]
    reopen = [
        item.organization_id
        for item in items
        if (item.details or {}).get("legacy_login_disabled", True)
    ]
    memberships = session.execute(
        select(Membership.id, Membership.person_id).where(
            Membership.migration_item_id.in_(item_ids),
            Membership.status == MembershipStatus.ACTIVE,
        )
    ).all()
    for chunk in chunks([m for m, _ in memberships]):
        session.execute(
            update(Membership)
            .where(Membership.id.in_(chunk))
            .values(status=MembershipStatus.DISABLED, disabled_at=now)
            .execution_options(synchronize_session=False)
        )
    result.memberships_disabled = len(memberships)
    persons = sorted({p for _, p in memberships})
    still_member = exists().where(
        Membership.person_id == Person.id, Membership.status == MembershipStatus.ACTIVE
    )
    orphaned: list[int] = []
    for chunk in chunks(persons):
        orphaned.extend(
            session.scalars(select(Person.id).where(Person.id.in_(chunk), ~still_member)).all()
        )
    result.persons_disabled = len(orphaned)
    result.persons_kept = len(persons) - len(orphaned)
    for chunk in chunks(orphaned):
        session.execute(
            update(Person)
            .where(Person.id.in_(chunk))
            .values(status=PersonStatus.DISABLED)
            .execution_options(synchronize_session=False)
        )
        revoked = session.execute(
            update(VerificationToken)
            .where(
                VerificationToken.person_id.in_(chunk),
                VerificationToken.purpose == TokenPurpose.ACTIVATE_ACCOUNT,
                VerificationToken.used_at.is_(None),
                VerificationToken.revoked_at.is_(None),
            )
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        result.links_revoked += int(revoked.rowcount or 0)  # type: ignore[attr-defined]
        cancelled = session.execute(
            update(Message)
            .where(
                Message.person_id.in_(chunk),
                Message.template == activation.TEMPLATE,
                Message.status == MessageStatus.QUEUED,
            )
            .values(
                status=MessageStatus.FAILED,
                last_error=f"cancelled: wave {wave.name} was rolled back",
            )
            .execution_options(synchronize_session=False)
        )
        result.emails_cancelled += int(cancelled.rowcount or 0)  # type: ignore[attr-defined]
    for chunk in chunks(registrations):
        restored = session.execute(
            update(Registration)
            .where(Registration.id.in_(chunk), Registration.status == RegistrationStatus.MIGRATED)
            .values(status=RegistrationStatus.VERIFIED, migrated_at=None, status_changed_at=now)
            .execution_options(synchronize_session=False)
        )
        result.registrations_restored += int(restored.rowcount or 0)  # type: ignore[attr-defined]
    for chunk in chunks(reopen):
        enabled = session.execute(
            update(Organization)
            .where(Organization.id.in_(chunk), Organization.legacy_login_enabled.is_(False))
            .values(legacy_login_enabled=True, legacy_login_disabled_at=None)
            .execution_options(synchronize_session=False)
        )
        result.legacy_logins_enabled += int(enabled.rowcount or 0)  # type: ignore[attr-defined]
    _mark_items(session, items, now, reason, actor, wave, orphaned)
    return result


def _mark_items(
    session: Session,
    items: Sequence[MigrationItem],
    now: Any,
    reason: str,
    actor: str,
    wave: MigrationWave,
    orphaned: Sequence[int],
) -> None:
    disabled = set(orphaned)
    rows = []
    for item in items:
        created = set((item.details or {}).get("persons_created", []))
        item.status = MigrationItemStatus.ROLLED_BACK
        item.reason = f"rolled back: {reason}"
        item.updated_at = now
        rows.append(
            {
                "occurred_at": now,
                "actor": actor,
                "action": "migration.item_rolled_back",
                "entity_type": "migration_item",
                "entity_id": item.id,
                "organization_id": item.organization_id,
                "details": {
                    "wave": wave.name,
                    "reason": reason,
                    "registrations": (item.details or {}).get("registrations", []),
                    "persons_disabled": sorted(created & disabled),
                },
            }
        )
    session.execute(insert(AUDIT), rows)
    session.flush()


def finish(
    session: Session,
    clock: Clock,
    wave: MigrationWave,
    result: RollbackResult,
    *,
    reason: str,
    actor: str,
) -> None:
    now = clock.now()
    wave.status = WaveStatus.ROLLED_BACK
    wave.rolled_back_at = now
    wave.halt_reason = f"rolled back: {reason}"
    report = dict(wave.report or {})
    report["rollbacks"] = [
        *report.get("rollbacks", []),
        {"at": now.isoformat(), "reason": reason, "actor": actor, **result.as_dict()},
    ]
    wave.report = report
    audit.record(
        session,
        clock,
        actor=actor,
        action="migration.wave_rolled_back",
        entity_type="migration_wave",
        entity_id=wave.id,
        reason=reason,
        **result.as_dict(),
    )
