"""The Customer Hub's view of a person: their organizations, each one's services, applications.

Organization data and service-usage history are the ones the organization had before the switch
(the migration leaves them untouched); here they are read through the person's memberships.
Applying for a new NK service is an Administrator's right (`Action.APPLY_FOR_SERVICE`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.enums import Locale, MembershipStatus, PersonStatus, Role
from db.inserts import insert_ignoring
from db.models import (
    Membership,
    Organization,
    Person,
    Service,
    ServiceApplication,
    ServiceSubscription,
    ServiceUsage,
)
from domain import audit
from domain.clock import Clock
from domain.roles import Action, Target, actor_in, authorize, may

MAX_NOTE_LENGTH = 2000


class ApplicationError(ValueError):
    """The application cannot be made; the message is for the person at the form."""


@dataclass(frozen=True)
class ServiceLine:
    service_id: int
    code: str
    name: str
    name_ja: str
    since: dt.date
    last_month: dt.date | None  # the latest month with recorded use
    uses_12_months: int

    def label(self, locale: Locale) -> str:
        return self.name_ja if locale is Locale.JA and self.name_ja else self.name


@dataclass(frozen=True)
class HubOrganization:
    id: int
    login_id: str
    name: str
    name_local: str | None
    country: str
    role: Role
    services: tuple[ServiceLine, ...]

    def label(self, locale: Locale) -> str:
        return self.name_local if locale is Locale.JA and self.name_local else self.name


def organizations(session: Session, person_id: int, today: dt.date) -> list[HubOrganization]:
    """The person's organizations (active memberships of an active account) with their services."""
    rows = session.execute(
        select(Organization, Membership.role)
        .join(Membership, Membership.organization_id == Organization.id)
        .join(Person, Person.id == Membership.person_id)
        .where(
            Membership.person_id == person_id,
            Membership.status == MembershipStatus.ACTIVE,
            Person.status == PersonStatus.ACTIVE,
        )
        .order_by(Organization.name, Organization.id)
    ).all()
    services = _services(session, [org.id for org, _ in rows], today)
    return [
        HubOrganization(
            id=org.id,
            login_id=org.legacy_login_id,
            name=org.name,
            name_local=org.name_local,
            country=org.country,
            role=role,
            services=tuple(services.get(org.id, ())),
        )
        for org, role in rows
    ]


def _services(
    session: Session, organization_ids: list[int], today: dt.date
) -> dict[int, list[ServiceLine]]:
    if not organization_ids:
        return {}
    year_ago = dt.date(today.year - 1, today.month, 1)
    usage = (
        select(
            ServiceUsage.organization_id.label("organization_id"),
            ServiceUsage.service_id.label("service_id"),
            func.max(ServiceUsage.month).label("last_month"),
            func.sum(ServiceUsage.uses).filter(ServiceUsage.month >= year_ago).label("recent"),
        )
        .where(ServiceUsage.organization_id.in_(organization_ids))
        .group_by(ServiceUsage.organization_id, ServiceUsage.service_id)
        .subquery()
    )
    rows = session.execute(
        select(ServiceSubscription, Service, usage.c.last_month, usage.c.recent)
        .join(Service, Service.id == ServiceSubscription.service_id)
        .outerjoin(
            usage,
            (usage.c.organization_id == ServiceSubscription.organization_id)
            & (usage.c.service_id == ServiceSubscription.service_id),
        )
        .where(ServiceSubscription.organization_id.in_(organization_ids))
        .order_by(Service.name)
    ).all()
    found: dict[int, list[ServiceLine]] = defaultdict(list)
    for subscription, service, last_month, recent in rows:
        found[subscription.organization_id].append(
            ServiceLine(
                service_id=service.id,
                code=service.code,
                name=service.name,
                name_ja=service.name_ja,
                since=subscription.since,
                last_month=last_month,
                uses_12_months=int(recent or 0),
            )
        )
    return found


def applicable_services(session: Session, organization_id: int) -> list[Service]:
    """Services the organization neither uses nor has applied for."""
    used = select(ServiceSubscription.service_id).where(
        ServiceSubscription.organization_id == organization_id
    )
    applied = select(ServiceApplication.service_id).where(
        ServiceApplication.organization_id == organization_id
    )
    return list(
        session.scalars(
            select(Service)
            .where(Service.id.not_in(used), Service.id.not_in(applied))
            .order_by(Service.name)
        )
    )


def applications(
    session: Session, organization_id: int
) -> list[tuple[ServiceApplication, Service]]:
    rows = session.execute(
        select(ServiceApplication, Service)
        .join(Service, Service.id == ServiceApplication.service_id)
        .where(ServiceApplication.organization_id == organization_id)
        .order_by(ServiceApplication.applied_at.desc())
    ).all()
    return [(application, service) for application, service in rows]


def apply_for_service(
    session: Session,
    clock: Clock,
    *,
    actor_id: int,
    organization_id: int,
    service_id: int,
    note: str = "",
) -> ServiceApplication:
    authorize(session, actor_id, Action.APPLY_FOR_SERVICE, Target(organization_id))
    if service_id not in {s.id for s in applicable_services(session, organization_id)}:
        raise ApplicationError("Your organization already uses this service or has applied for it.")
    clean_note = (note or "").strip()
    if len(clean_note) > MAX_NOTE_LENGTH:
        raise ApplicationError(f"The note is too long (at most {MAX_NOTE_LENGTH} characters).")
    new_id = session.execute(
        insert_ignoring(session, ServiceApplication, "organization_id", "service_id")
        .values(
            organization_id=organization_id,
            service_id=service_id,
            applied_by_person_id=actor_id,
            applied_at=clock.now(),
            note=clean_note or None,
        )
        .returning(ServiceApplication.id)
    ).scalar_one_or_none()
    if new_id is None:  # the same application sent twice at once
        raise ApplicationError("Your organization has already applied for this service.")
    application = session.get_one(ServiceApplication, new_id)
    audit.record(
        session,
        clock,
        actor=f"person:{actor_id}",
        action="service.application_submitted",
        entity_type="service_application",
        entity_id=application.id,
        organization_id=organization_id,
        service_id=service_id,
    )
    return application


def permissions(session: Session, person_id: int, organization_id: int) -> frozenset[Action]:
    """What the person may do in the organization's name (for the links a page shows; every
    action checks `authorize` again when it is taken)."""
    actor = actor_in(session, person_id, organization_id)
    if actor is None:
        return frozenset()
    return frozenset(a for a in Action if may(actor, a, Target(organization_id)))
