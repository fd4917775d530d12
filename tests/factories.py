"""Small builders for test data (the seed builds realistic populations; these build one row)."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from db.enums import Locale, RegistrationSource, Role
from db.models import Organization, OrganizationDomain, Registration
from domain.clock import Calendar, Clock
from domain.registration import submit

_numbers = itertools.count(1)


def organization(
    session: Session,
    clock: Clock,
    *,
    name: str | None = None,
    locale: Locale = Locale.EN,
    country: str = "JP",
    domains: tuple[str, ...] = ("owner.example",),
    password_hash: str = "not-a-real-hash",
) -> Organization:
    number = next(_numbers)
    org = Organization(
        legacy_login_id=f"NK{number:06d}",
        name=name or f"Test Shipping {number}",
        country=country,
        locale=locale,
        password_hash=password_hash,
        created_at=clock.now(),
    )
    session.add(org)
    session.flush()
    for domain in domains:
        session.add(OrganizationDomain(organization_id=org.id, domain=domain))
    session.flush()
    return org


def registration(
    session: Session,
    clock: Clock,
    calendar: Calendar,
    org: Organization,
    email: str,
    *,
    role: Role = Role.NORMAL,
    name: str = "Taro Yamada",
    source: RegistrationSource = RegistrationSource.PORTAL,
) -> Registration:
    return submit(
        session,
        clock,
        calendar,
        organization=org,
        name=name,
        email=email,
        role=role,
        submitted_by=f"org:{org.legacy_login_id}",
        source=source,
    ).registration
