"""Before anything changes: what each wave will do, and what deserves a look first.

- per wave: organizations still to do, their verified registrations, how many have a verified
  Administrator;
- organizations without a verified Administrator (they are migrated, but nobody can invite);
- addresses registered by several organizations (one person, several memberships — expected for
  consultants and group companies, worth a glance when there are many);
- addresses that bounced: registrations stopped by a bounce in the waves' organizations, and
  verified addresses an email to which bounced since (their activation email may not arrive);
- organizations that registered nobody, and what the switch does to their shared log-in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, distinct, exists, func, select
from sqlalchemy.orm import Session

from db.enums import MessageStatus, RegistrationStatus, Role, WaveStatus
from db.models import Message, MigrationItem, MigrationWave, Organization, Registration
from domain.migration import unregistered
from domain.migration.waves import TO_DO, TO_REDO

SAMPLE = 50


@dataclass(frozen=True)
class WaveCounts:
    name: str
    position: int
    status: str
    organizations: int  # still to do
    registrations: int  # verified, of those organizations
    with_administrator: int


@dataclass(frozen=True)
class Preflight:
    waves: tuple[WaveCounts, ...]
    without_administrator: int
    without_administrator_sample: tuple[dict[str, Any], ...]
    shared_addresses: int
    shared_sample: tuple[dict[str, Any], ...]
    bounced: int
    bounced_sample: tuple[dict[str, Any], ...]
    unregistered: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def organizations(self) -> int:
        return sum(w.organizations for w in self.waves)

    @property
    def registrations(self) -> int:
        return sum(w.registrations for w in self.waves)


def _to_do() -> Any:
    """Items a run would do: pending or failed, and all of a wave a run names after rollback."""
    return case(
        (MigrationWave.status == WaveStatus.ROLLED_BACK, MigrationItem.status.in_(TO_REDO)),
        else_=MigrationItem.status.in_(TO_DO),
    )


def check(session: Session, waves: list[MigrationWave]) -> Preflight:
    wave_ids = [w.id for w in waves]
    todo = (
        select(MigrationItem.organization_id, MigrationItem.wave_id)
        .join(MigrationWave, MigrationWave.id == MigrationItem.wave_id)
        .where(MigrationItem.wave_id.in_(wave_ids), _to_do() == True)  # noqa: E712
        .subquery()
    )
    items: dict[int, int] = {
        int(wave_id): int(n)
        for wave_id, n in session.execute(
            select(todo.c.wave_id, func.count()).group_by(todo.c.wave_id)
        )
    }
    verified = Registration.status == RegistrationStatus.VERIFIED
    regs = {
        wave_id: (int(n), int(admins or 0))
        for wave_id, n, admins in session.execute(
            select(
                todo.c.wave_id,
                func.count(Registration.id),
                func.count(
                    distinct(
                        case(
                            (Registration.role == Role.ADMINISTRATOR, Registration.organization_id)
                        )
                    )
                ),
            )
            .join(
                Registration, and_(Registration.organization_id == todo.c.organization_id, verified)
            )
            .group_by(todo.c.wave_id)
        )
    }
    counts = tuple(
        WaveCounts(
            w.name,
            w.position,
            w.status.value,
            int(items.get(w.id, 0)),
            regs.get(w.id, (0, 0))[0],
            regs.get(w.id, (0, 0))[1],
        )
        for w in waves
    )
    has_admin = exists().where(
        Registration.organization_id == Organization.id,
        Registration.role == Role.ADMINISTRATOR,
        verified,
    )
    no_admin = (
        select(Organization).join(todo, todo.c.organization_id == Organization.id).where(~has_admin)
    )
    without = int(session.scalar(select(func.count()).select_from(no_admin.subquery())) or 0)
    sample = [
        {"login_id": org.legacy_login_id, "organization": org.name, "country": org.country}
        for org in session.scalars(no_admin.order_by(Organization.id).limit(SAMPLE))
    ]
    shared, shared_sample = _shared(session)
    bounced, bounced_sample = _bounced(session, todo)
    return Preflight(
        waves=counts,
        without_administrator=without,
        without_administrator_sample=tuple(sample),
        shared_addresses=shared,
        shared_sample=tuple(shared_sample),
        bounced=bounced,
        bounced_sample=tuple(bounced_sample),
        unregistered=unregistered.count(session),
    )


def _shared(session: Session) -> tuple[int, list[dict[str, Any]]]:
    live = Registration.status.in_([RegistrationStatus.VERIFIED, RegistrationStatus.MIGRATED])
    grouped = (
        select(Registration.email, func.count(distinct(Registration.organization_id)).label("n"))
        .where(live)
        .group_by(Registration.email)
        .having(func.count(distinct(Registration.organization_id)) > 1)
        .subquery()
    )
    total = int(session.scalar(select(func.count()).select_from(grouped)) or 0)
    sample = [
        {"email": email, "organizations": int(n)}
        for email, n in session.execute(
            select(grouped.c.email, grouped.c.n)
            .order_by(grouped.c.n.desc(), grouped.c.email)
            .limit(SAMPLE)
        )
    ]
    return total, sample


def _bounced(session: Session, todo: Any) -> tuple[int, list[dict[str, Any]]]:
    bounced_mail = exists().where(
        func.lower(Message.to_address) == Registration.email,
        Message.status == MessageStatus.BOUNCED,
    )
    condition = (Registration.status == RegistrationStatus.BOUNCED) | (
        (Registration.status == RegistrationStatus.VERIFIED) & bounced_mail
    )
    query = (
        select(Organization.legacy_login_id, Registration.email, Registration.status)
        .join(todo, todo.c.organization_id == Registration.organization_id)
        .join(Organization, Organization.id == Registration.organization_id)
        .where(condition)
    )
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    sample = [
        {
            "login_id": login_id,
            "email": email,
            "problem": "registration stopped by a bounce"
            if status is RegistrationStatus.BOUNCED
            else "verified, but a later email bounced",
        }
        for login_id, email, status in session.execute(
            query.order_by(Registration.id).limit(SAMPLE)
        )
    ]
    return total, sample
