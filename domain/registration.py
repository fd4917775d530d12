"""Pre-registration: an organization submits its people's addresses, each with a role.

Submitting records a pending registration; the verification-dispatch flow then sends the link
(`domain.verification.issue_link`), so a slow mail server never slows the form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.enums import RegistrationSource, RegistrationStatus, Role
from db.models import Organization, OrganizationDomain, Registration
from domain import audit
from domain.addresses import Address, parse
from domain.clock import Calendar, Clock

# Registrations that hold their address within the organization (see the partial unique index).
LIVE_STATUSES = (
    RegistrationStatus.PENDING,
    RegistrationStatus.VERIFIED,
    RegistrationStatus.MIGRATED,
    RegistrationStatus.BOUNCED,
)
MAX_NAME_LENGTH = 200


class RegistrationError(ValueError):
    """The submission cannot be accepted; the message is meant for the person at the form."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class WindowClosed(RegistrationError):
    pass


class DuplicateRegistration(RegistrationError):
    pass


@dataclass(frozen=True)
class Submitted:
    registration: Registration
    address: Address
    also_registered_elsewhere: bool  # the person will hold memberships in several organizations


def known_domains(session: Session, organization_id: int) -> list[str]:
    return list(
        session.scalars(
            select(OrganizationDomain.domain).where(
                OrganizationDomain.organization_id == organization_id
            )
        )
    )


def submit(
    session: Session,
    clock: Clock,
    calendar: Calendar,
    *,
    organization: Organization,
    name: str,
    email: str,
    role: Role | str,
    submitted_by: str,
    source: RegistrationSource = RegistrationSource.PORTAL,
) -> Submitted:
    """Record one person's address for the organization, pending verification."""
    now = clock.now()
    # The helpdesk may register people after the close ("a helpdesk-assisted way back in").
    if source is RegistrationSource.PORTAL and not calendar.is_open(now):
        raise WindowClosed(_window_message(calendar, now))
    clean_name = " ".join((name or "").split())
    if not clean_name:
        raise RegistrationError("Enter the person's name.", field="name")
    if len(clean_name) > MAX_NAME_LENGTH:
        raise RegistrationError(
            f"The name is too long (at most {MAX_NAME_LENGTH} characters).", field="name"
        )
    try:
        chosen_role = Role(role)
    except ValueError:
        raise RegistrationError("Choose a role.", field="role") from None
    try:
        address = parse(email, known_domains=known_domains(session, organization.id))
    except ValueError as exc:
        raise RegistrationError(str(exc), field="email") from None

    existing = session.scalars(
        select(Registration).where(
            Registration.organization_id == organization.id,
            Registration.email == address.normalized,
            Registration.status.in_(LIVE_STATUSES),
        )
    ).first()
    if existing is not None:
        raise DuplicateRegistration(
            f"{address.normalized} is already registered for this organization "
            f"({existing.status.value}).",
            field="email",
        )
    elsewhere = (
        session.scalar(
            select(func.count())
            .select_from(Registration)
            .where(
                Registration.email == address.normalized,
                Registration.organization_id != organization.id,
                Registration.status.in_(LIVE_STATUSES),
            )
        )
        or 0
    ) > 0
    registration = Registration(
        organization_id=organization.id,
        email=address.normalized,
        email_display=address.display,
        name=clean_name,
        role=chosen_role,
        status=RegistrationStatus.PENDING,
        source=source,
        submitted_at=now,
        submitted_by=submitted_by,
        status_changed_at=now,
    )
    session.add(registration)
    session.flush()
    audit.record(
        session,
        clock,
        actor=submitted_by,
        action="registration.submitted",
        entity_type="registration",
        entity_id=registration.id,
        organization_id=organization.id,
        email=address.normalized,
        role=chosen_role.value,
        source=source.value,
    )
    return Submitted(registration, address, elsewhere)


def withdraw(
    session: Session, clock: Clock, *, registration: Registration, actor: str
) -> Registration:
    """The organization takes back a registration that has not been verified yet."""
    if registration.status not in (RegistrationStatus.PENDING, RegistrationStatus.EXPIRED):
        raise RegistrationError(
            f"Only pending registrations can be withdrawn; this one is {registration.status.value}."
        )
    set_status(session, clock, registration, RegistrationStatus.WITHDRAWN, actor)
    from domain.verification import revoke_links  # circular at import time only

    revoke_links(session, clock, registration)
    return registration


def for_organization(session: Session, organization_id: int) -> Sequence[Registration]:
    """The organization's registrations, live ones first, newest first."""
    return session.scalars(
        select(Registration)
        .where(Registration.organization_id == organization_id)
        .order_by(
            Registration.status.in_([RegistrationStatus.WITHDRAWN]).asc(),
            Registration.submitted_at.desc(),
            Registration.id.desc(),
        )
    ).all()


def has_verified_administrator(session: Session, organization_id: int) -> bool:
    """Ready: at least one Administrator has verified their address (or been migrated)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Registration)
            .where(
                Registration.organization_id == organization_id,
                Registration.role == Role.ADMINISTRATOR,
                Registration.status.in_([RegistrationStatus.VERIFIED, RegistrationStatus.MIGRATED]),
            )
        )
        or 0
    ) > 0


def set_status(
    session: Session,
    clock: Clock,
    registration: Registration,
    status: RegistrationStatus,
    actor: str,
    **details: object,
) -> None:
    before = registration.status
    registration.status = status
    registration.status_changed_at = clock.now()
    audit.record(
        session,
        clock,
        actor=actor,
        action=f"registration.{status.value}",
        entity_type="registration",
        entity_id=registration.id,
        organization_id=registration.organization_id,
        before=before.value,
        **details,
    )


def _window_message(calendar: Calendar, now: dt.datetime) -> str:
    opens = calendar.opens_on.strftime("%-d %B %Y")
    closes = calendar.closes_on.strftime("%-d %B %Y")
    if calendar.phase(now) == "before":
        return f"Pre-registration opens on {opens} and runs until {closes}."
    return f"Pre-registration closed on {closes}. Please contact the helpdesk."
