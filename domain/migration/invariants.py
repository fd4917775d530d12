"""What must hold after a wave, checked by queries over what the wave did.

1. Every migrated organization has an active Administrator membership, or its item says why
   not (the registrations had no verified Administrator).
2. One person per address: no two persons share an address, and every registration the wave
   migrated belongs to the person with its address, as an active membership of its organization.
3. Organization data and service history untouched: organizations, subscriptions, usage rows,
   the sum of their uses and of their ids are what they were when the wave started.
4. Every verified registration of the wave's organizations is migrated, or has a recorded reason.

The results go into the wave's report as ``{"invariants": [{"name", "passed", "detail"}]}``, the
shape the dashboard reads.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from db.enums import MembershipStatus, MigrationItemStatus, RegistrationStatus, Role
from db.models import (
    Membership,
    MigrationItem,
    Organization,
    Person,
    Registration,
    ServiceSubscription,
    ServiceUsage,
)
from domain.migration.batch import NO_ADMINISTRATOR

SAMPLE = 10


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _wave_orgs(wave_id: int) -> Any:
    return select(MigrationItem.organization_id).where(MigrationItem.wave_id == wave_id)


def usage_snapshot(session: Session, wave_id: int) -> dict[str, int]:
    """The numbers that must not move while the wave runs."""
    orgs = _wave_orgs(wave_id)
    usage = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(ServiceUsage.uses), 0),
            func.coalesce(func.sum(ServiceUsage.id), 0),
        ).where(ServiceUsage.organization_id.in_(orgs))
    ).one()
    subscriptions = session.scalar(
        select(func.count()).where(ServiceSubscription.organization_id.in_(orgs))
    )
    organizations = session.scalar(select(func.count()).where(Organization.id.in_(orgs)))
    return {
        "organizations": int(organizations or 0),
        "subscriptions": int(subscriptions or 0),
        "usage_rows": int(usage[0]),
        "usage_total": int(usage[1]),
        "usage_id_sum": int(usage[2]),
    }


def _administrators(session: Session, wave_id: int) -> Check:
    has_admin = exists().where(
        Membership.organization_id == MigrationItem.organization_id,
        Membership.role == Role.ADMINISTRATOR,
        Membership.status == MembershipStatus.ACTIVE,
    )
    base = (
        MigrationItem.wave_id == wave_id,
        MigrationItem.status == MigrationItemStatus.MIGRATED,
        ~has_admin,
    )
    listed = func.coalesce(MigrationItem.reason, "").like(f"{NO_ADMINISTRATOR}%")
    without = int(session.scalar(select(func.count()).where(*base)) or 0)
    unlisted = session.scalars(
        select(Organization.legacy_login_id)
        .join(MigrationItem, MigrationItem.organization_id == Organization.id)
        .where(*base, ~listed)
        .limit(SAMPLE)
    ).all()
    if unlisted:
        return Check(
            "administrator",
            False,
            f"migrated without an Administrator and without a reason: {', '.join(unlisted)}",
        )
    return Check(
        "administrator",
        True,
        f"every migrated organization has an Administrator, except {without} listed with the "
        "reason (no verified Administrator registered)",
    )


def _one_person_per_address(session: Session, wave_id: int) -> Check:
    wave_items = select(MigrationItem.id).where(MigrationItem.wave_id == wave_id)
    touched = select(Membership.person_id).where(Membership.migration_item_id.in_(wave_items))
    duplicated = session.execute(
        select(func.lower(func.trim(Person.email)), func.count())
        .where(
            func.lower(func.trim(Person.email)).in_(
                select(func.lower(func.trim(Person.email))).where(Person.id.in_(touched))
            )
        )
        .group_by(func.lower(func.trim(Person.email)))
        .having(func.count() > 1)
        .limit(SAMPLE)
    ).all()
    if duplicated:
        return Check(
            "one person per address",
            False,
            "several persons for " + ", ".join(str(email) for email, _ in duplicated),
        )
    member = exists().where(
        Membership.organization_id == Registration.organization_id,
        Membership.status == MembershipStatus.ACTIVE,
        Membership.person_id == Person.id,
    )
    migrated = (
        Registration.status == RegistrationStatus.MIGRATED,
        Registration.organization_id.in_(
            select(MigrationItem.organization_id).where(
                MigrationItem.wave_id == wave_id,
                MigrationItem.status == MigrationItemStatus.MIGRATED,
            )
        ),
    )
    orphans = session.scalars(
        select(Registration.email)
        .outerjoin(Person, Person.email == Registration.email)
        .where(*migrated, ~member)
        .limit(SAMPLE)
    ).all()
    if orphans:
        return Check(
            "one person per address",
            False,
            "migrated registrations without the membership of their person: " + ", ".join(orphans),
        )
    counted = touched.subquery()
    persons = int(session.scalar(select(func.count(func.distinct(counted.c.person_id)))) or 0)
    return Check(
        "one person per address",
        True,
        f"{persons} persons for the wave's memberships, none duplicated; every migrated "
        "registration is its person's active membership",
    )


def _history(session: Session, wave_id: int, before: dict[str, int] | None) -> Check:
    after = usage_snapshot(session, wave_id)
    if before is None:
        return Check("service history untouched", False, "no snapshot was taken at the start")
    moved = {k: (before.get(k), v) for k, v in after.items() if before.get(k) != v}
    if moved:
        return Check(
            "service history untouched",
            False,
            "changed during the wave: "
            + ", ".join(f"{k} {old} → {new}" for k, (old, new) in moved.items()),
        )
    return Check(
        "service history untouched",
        True,
        f"{after['organizations']} organizations, {after['subscriptions']} subscriptions, "
        f"{after['usage_rows']} usage rows totalling {after['usage_total']} uses, as before",
    )


def _registrations(session: Session, wave_id: int) -> Check:
    rows = session.execute(
        select(Registration.id, Organization.legacy_login_id, MigrationItem)
        .join(MigrationItem, MigrationItem.organization_id == Registration.organization_id)
        .join(Organization, Organization.id == Registration.organization_id)
        .where(
            MigrationItem.wave_id == wave_id,
            MigrationItem.status != MigrationItemStatus.PENDING,
            Registration.status == RegistrationStatus.VERIFIED,
            # Verified after its organization was done: for the next run, not this one.
            Registration.verified_at <= MigrationItem.updated_at,
        )
    ).all()
    unexplained = []
    for registration_id, login_id, item in rows:
        listed = (item.details or {}).get("not_migrated", {})
        explained = item.status is not MigrationItemStatus.MIGRATED and item.reason
        if not explained and str(registration_id) not in listed:
            unexplained.append(f"{login_id} (registration {registration_id})")
    if unexplained:
        return Check(
            "verified registrations migrated",
            False,
            f"{len(unexplained)} verified and neither migrated nor explained: "
            + ", ".join(unexplained[:SAMPLE]),
        )
    return Check(
        "verified registrations migrated",
        True,
        f"every verified registration is migrated; {len(rows)} not, each with its reason",
    )


def check_wave(session: Session, wave_id: int, before: dict[str, int] | None) -> list[Check]:
    return [
        _administrators(session, wave_id),
        _one_person_per_address(session, wave_id),
        _history(session, wave_id, before),
        _registrations(session, wave_id),
    ]
