"""Where each organization stands, and whom to write to: set-based queries over a range of ids.

Every organization is in exactly one segment, decided by its registrations:

* ``ready`` — at least one Administrator verified (or already migrated);
* ``no_verified_admin`` — someone verified, but no Administrator;
* ``nothing_verified`` — registrations exist (pending, expired, bounced), none verified;
* ``never_registered`` — no registration at all, or only withdrawn ones.

The campaign, the follow-up and their previews classify thousands of organizations per batch,
so the classification is one aggregate query per range of ids, never one query per organization.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, and_, case, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from db.enums import Locale, RegistrationStatus, Role
from db.models import Organization, OrganizationContact, Registration

ORGS = cast(Table, Organization.__table__)
CONTACTS = cast(Table, OrganizationContact.__table__)
REGISTRATIONS = cast(Table, Registration.__table__)


class Segment(StrEnum):
    NEVER_REGISTERED = "never_registered"
    NOTHING_VERIFIED = "nothing_verified"
    NO_VERIFIED_ADMIN = "no_verified_admin"
    READY = "ready"

    @property
    def label(self) -> str:
        return {
            Segment.NEVER_REGISTERED: "never registered",
            Segment.NOTHING_VERIFIED: "registered but nothing verified",
            Segment.NO_VERIFIED_ADMIN: "no verified Administrator",
            Segment.READY: "ready",
        }[self]


class Recipients(StrEnum):
    """Whom a step writes to in each organization."""

    CONTACTS = "contacts"  # the addresses on file
    CONTACTS_AND_REGISTERED = "contacts_and_registered"  # and the people waiting to verify


NOT_READY = (Segment.NEVER_REGISTERED, Segment.NOTHING_VERIFIED, Segment.NO_VERIFIED_ADMIN)
VERIFIED_STATUSES = (RegistrationStatus.VERIFIED, RegistrationStatus.MIGRATED)


@dataclass(frozen=True, slots=True)
class OrgRow:
    id: int
    login_id: str
    name: str
    name_local: str | None
    locale: Locale
    segment: Segment
    account_manager: str | None = None
    phone: str | None = None

    @property
    def display_name(self) -> str:
        # The rule of domain.organizations.display_name, on a row rather than an ORM object.
        if self.locale is Locale.JA and self.name_local:
            return self.name_local
        return self.name


@dataclass(frozen=True, slots=True)
class Recipient:
    organization_id: int
    email: str
    name: str | None
    registration_id: int | None  # set when the address is a registered person's


def segment_column(first_id: int | None = None, last_id: int | None = None) -> tuple[Any, Any]:
    """(segment expression, the aggregate subquery to outer-join on organizations.id)."""
    reg = REGISTRATIONS.c
    verified = reg.status.in_([s.value for s in VERIFIED_STATUSES])
    conditions: list[ColumnElement[bool]] = [reg.status != RegistrationStatus.WITHDRAWN.value]
    if first_id is not None and last_id is not None:
        conditions.append(reg.organization_id.between(first_id, last_id))
    stats = (
        select(
            reg.organization_id.label("organization_id"),
            func.max(
                case((and_(verified, reg.role == Role.ADMINISTRATOR.value), 1), else_=0)
            ).label("admin_verified"),
            func.max(case((verified, 1), else_=0)).label("any_verified"),
        )
        .where(*conditions)
        .group_by(reg.organization_id)
        .subquery("registration_stats")
    )
    segment = case(
        (stats.c.organization_id.is_(None), literal(Segment.NEVER_REGISTERED.value)),
        (stats.c.admin_verified == 1, literal(Segment.READY.value)),
        (stats.c.any_verified == 1, literal(Segment.NO_VERIFIED_ADMIN.value)),
        else_=literal(Segment.NOTHING_VERIFIED.value),
    )
    return segment, stats


def classify(
    session: Session,
    first_id: int,
    last_id: int,
    segments: Collection[Segment] | None = None,
) -> list[OrgRow]:
    """The organizations with ids in [first_id, last_id], each with its segment, by id.

    `segments` keeps only organizations in those segments (the filter runs in the database).
    """
    segment, stats = segment_column(first_id, last_id)
    org = ORGS.c
    query = (
        select(
            org.id,
            org.legacy_login_id,
            org.name,
            org.name_local,
            org.locale,
            segment.label("segment"),
            org.account_manager,
            org.phone,
        )
        .select_from(ORGS.outerjoin(stats, stats.c.organization_id == org.id))
        .where(org.id.between(first_id, last_id))
        .order_by(org.id)
    )
    if segments is not None:
        query = query.where(segment.in_([s.value for s in segments]))
    return [
        OrgRow(
            id=row.id,
            login_id=row.legacy_login_id,
            name=row.name,
            name_local=row.name_local,
            locale=Locale(row.locale),
            segment=Segment(row.segment),
            account_manager=row.account_manager,
            phone=row.phone,
        )
        for row in session.execute(query)
    ]


def segment_counts(session: Session) -> dict[Segment, int]:
    """How many organizations stand in each segment now (every segment present, zeros too)."""
    segment, stats = segment_column()
    rows = session.execute(
        select(segment.label("segment"), func.count())
        .select_from(ORGS.outerjoin(stats, stats.c.organization_id == ORGS.c.id))
        .group_by(segment)
    )
    counts = dict.fromkeys(Segment, 0)
    for name, count in rows:
        counts[Segment(name)] = int(count)
    return counts


def id_batches(session: Session, size: int) -> list[tuple[int, int]]:
    """Ranges of organization ids holding at most `size` organizations each, in order."""
    if size < 1:
        raise ValueError(f"batch size must be at least 1 (got {size})")
    numbered = select(
        ORGS.c.id.label("id"), func.row_number().over(order_by=ORGS.c.id).label("n")
    ).subquery()
    starts = list(
        session.scalars(
            select(numbered.c.id).where((numbered.c.n - 1) % size == 0).order_by(numbered.c.id)
        )
    )
    if not starts:
        return []
    last = session.scalar(select(func.max(ORGS.c.id)))
    assert last is not None
    ends = [start - 1 for start in starts[1:]] + [last]
    return list(zip(starts, ends, strict=True))


def contacts(
    session: Session, first_id: int, last_id: int, organization_ids: Iterable[int] | None = None
) -> list[Recipient]:
    """Contacts on file of the organizations in the range, except addresses known to bounce."""
    c = CONTACTS.c
    query = (
        select(c.organization_id, c.email, c.name)
        .where(c.organization_id.between(first_id, last_id), c.email_bounced_at.is_(None))
        .order_by(c.organization_id, c.kind, c.id)
    )
    wanted = None if organization_ids is None else set(organization_ids)
    return [
        Recipient(row.organization_id, row.email, row.name, None)
        for row in session.execute(query)
        if wanted is None or row.organization_id in wanted
    ]


def pending_registrants(
    session: Session, first_id: int, last_id: int, organization_ids: Iterable[int] | None = None
) -> list[Recipient]:
    """People registered in the range and waiting to verify, whose address can receive mail."""
    r = REGISTRATIONS.c
    query = (
        select(r.organization_id, r.email, r.name, r.id)
        .where(
            r.organization_id.between(first_id, last_id),
            r.status == RegistrationStatus.PENDING.value,
            r.undeliverable_reason.is_(None),
        )
        .order_by(r.organization_id, r.id)
    )
    wanted = None if organization_ids is None else set(organization_ids)
    return [
        Recipient(row.organization_id, row.email, row.name, row.id)
        for row in session.execute(query)
        if wanted is None or row.organization_id in wanted
    ]
