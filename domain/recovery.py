"""Helpdesk-assisted recovery: an agent registers a person for an organization and sends the link.

After the close the form is shut, and after the switch an organization without a verified
registration cannot log in at all; the way back in is the helpdesk. The agent checks who is
calling, then registers the person here (source ``helpdesk``, submitted by ``agent:<name>``)
and the verification link goes out at once. Everything is recorded in the audit trail as done
by that agent. The same address registered again for the same organization is refused with the
registration's state, so a second click by the agent sends nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.enums import RegistrationSource, Role
from db.models import Organization, Registration
from domain import audit
from domain.clock import Calendar, Clock
from domain.registration import RegistrationError, submit
from domain.settings import Settings
from domain.verification import issue_link

MAX_AGENT_LENGTH = 100


class RecoveryError(ValueError):
    """The recovery cannot be done as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Recovered:
    organization_id: int
    organization_name: str
    login_id: str
    registration_id: int | None  # None in a dry run
    email: str
    role: Role
    phase: str  # where the calendar stood: open, closed, switched
    dry_run: bool


def find_organization(session: Session, login_id: str) -> Organization:
    wanted = (login_id or "").strip()
    if not wanted:
        raise RecoveryError("give the organization's login ID (e.g. NK000123)")
    organization = session.scalar(
        select(Organization).where(func.upper(Organization.legacy_login_id) == wanted.upper())
    )
    if organization is None:
        raise RecoveryError(f"no organization has the login ID {wanted!r}; check the spelling")
    return organization


def agent_actor(agent: str) -> str:
    name = " ".join((agent or "").split())
    if not name:
        raise RecoveryError("give the helpdesk agent's name; it is recorded with the registration")
    if len(name) > MAX_AGENT_LENGTH:
        raise RecoveryError(f"the agent's name is too long (at most {MAX_AGENT_LENGTH} characters)")
    return f"agent:{name}"


def register_for_organization(
    session: Session,
    clock: Clock,
    calendar: Calendar,
    settings: Settings,
    *,
    login_id: str,
    name: str,
    email: str,
    role: Role | str,
    agent: str,
    dry_run: bool = False,
) -> Recovered:
    """Register `email` for the organization with `login_id` and email the verification link.

    Runs in the caller's transaction; in a dry run everything is checked and nothing is kept
    (the caller rolls back).
    """
    actor = agent_actor(agent)
    phase = calendar.phase(clock.now())
    if phase == "before":
        raise RecoveryError(
            f"pre-registration has not opened yet (it opens on {calendar.opens_on}); "
            "nothing to recover"
        )
    organization = find_organization(session, login_id)
    try:
        submitted = submit(
            session,
            clock,
            calendar,
            organization=organization,
            name=name,
            email=email,
            role=role,
            submitted_by=actor,
            source=RegistrationSource.HELPDESK,
        )
    except RegistrationError as exc:
        raise RecoveryError(str(exc)) from None
    registration: Registration = submitted.registration
    if not dry_run:
        issue_link(session, clock, settings, registration, actor=actor)
    audit.record(
        session,
        clock,
        actor=actor,
        action="helpdesk.recovery_registered",
        entity_type="registration",
        entity_id=registration.id,
        organization_id=organization.id,
        email=registration.email,
        role=registration.role.value,
        phase=phase,
    )
    return Recovered(
        organization_id=organization.id,
        organization_name=organization.name,
        login_id=organization.legacy_login_id,
        registration_id=None if dry_run else registration.id,
        email=registration.email,
        role=registration.role,
        phase=phase,
        dry_run=dry_run,
    )
