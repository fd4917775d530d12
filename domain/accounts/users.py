"""An organization's users: who they are, and the changes the permission matrix allows.

Administrators change roles, edit users' information and remove users of their organization;
every user edits their own information. Each function checks `domain.roles.authorize` itself, so
no caller (a page, a flow, a script) can skip the check. An organization always keeps at least
one active Administrator: the last one cannot be demoted or removed, or nobody could invite.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.enums import Locale, MembershipStatus, PersonStatus, Role
from db.models import Membership, Person
from domain import audit
from domain.clock import Clock
from domain.registration import MAX_NAME_LENGTH
from domain.roles import Action, Target, authorize

MAX_PHONE_LENGTH = 50


class UserError(ValueError):
    """The change cannot be made; the message is for the person at the form."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotAMember(UserError):
    """The person is not an active user of this organization (shown as "not found")."""


@dataclass(frozen=True)
class UserRow:
    person_id: int
    name: str
    email: str
    phone: str | None
    role: Role
    activated: bool
    last_login_at: dt.datetime | None
    since: dt.datetime


@dataclass(frozen=True)
class Information:
    """What "user information" is: the name, a phone number, the preferred language."""

    name: str
    phone: str | None
    locale: Locale | None


def users(session: Session, organization_id: int) -> list[UserRow]:
    rows = session.execute(
        select(Membership, Person)
        .join(Person, Person.id == Membership.person_id)
        .where(
            Membership.organization_id == organization_id,
            Membership.status == MembershipStatus.ACTIVE,
        )
        .order_by(Person.display_name, Person.id)
    ).all()
    return [
        UserRow(
            person_id=person.id,
            name=person.display_name,
            email=person.email,
            phone=person.phone,
            role=membership.role,
            activated=person.status is PersonStatus.ACTIVE and bool(person.password_hash),
            last_login_at=person.last_login_at,
            since=membership.created_at,
        )
        for membership, person in rows
    ]


def member(session: Session, organization_id: int, person_id: int) -> tuple[Membership, Person]:
    row = session.execute(
        select(Membership, Person)
        .join(Person, Person.id == Membership.person_id)
        .where(
            Membership.organization_id == organization_id,
            Membership.person_id == person_id,
            Membership.status == MembershipStatus.ACTIVE,
        )
    ).first()
    if row is None:
        raise NotAMember("This user is not a member of the organization.")
    return row[0], row[1]


def administrators(session: Session, organization_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .join(Person, Person.id == Membership.person_id)
            .where(
                Membership.organization_id == organization_id,
                Membership.role == Role.ADMINISTRATOR,
                Membership.status == MembershipStatus.ACTIVE,
                Person.status != PersonStatus.DISABLED,
            )
        )
        or 0
    )


def _keep_an_administrator(session: Session, membership: Membership) -> None:
    if (
        membership.role is Role.ADMINISTRATOR
        and administrators(session, membership.organization_id) <= 1
    ):
        raise UserError(
            "The organization needs at least one Administrator: make another user an "
            "Administrator first."
        )


def change_role(
    session: Session,
    clock: Clock,
    *,
    actor_id: int,
    organization_id: int,
    person_id: int,
    role: Role | str,
) -> Membership:
    authorize(session, actor_id, Action.EDIT_USER, Target(organization_id, person_id))
    try:
        chosen = Role(role)
    except ValueError:
        raise UserError("Choose an account type.", field="role") from None
    membership, _person = member(session, organization_id, person_id)
    if membership.role is chosen:
        return membership
    if chosen is not Role.ADMINISTRATOR:
        _keep_an_administrator(session, membership)
    before = membership.role
    membership.role = chosen
    audit.record(
        session,
        clock,
        actor=f"person:{actor_id}",
        action="membership.role_changed",
        entity_type="membership",
        entity_id=membership.id,
        organization_id=organization_id,
        person_id=person_id,
        before=before.value,
        after=chosen.value,
    )
    return membership


def remove(
    session: Session, clock: Clock, *, actor_id: int, organization_id: int, person_id: int
) -> Membership:
    """Take the person out of the organization (their account and other memberships stay)."""
    authorize(session, actor_id, Action.DELETE_USER, Target(organization_id, person_id))
    membership, _person = member(session, organization_id, person_id)
    _keep_an_administrator(session, membership)
    membership.status = MembershipStatus.DISABLED
    membership.disabled_at = clock.now()
    audit.record(
        session,
        clock,
        actor=f"person:{actor_id}",
        action="membership.removed",
        entity_type="membership",
        entity_id=membership.id,
        organization_id=organization_id,
        person_id=person_id,
        role=membership.role.value,
    )
    return membership


def clean_information(name: str, phone: str, locale: str) -> Information:
    clean_name = " ".join((name or "").split())
    if not clean_name:
        raise UserError("Enter the name.", field="name")
    if len(clean_name) > MAX_NAME_LENGTH:
        raise UserError(
            f"The name is too long (at most {MAX_NAME_LENGTH} characters).", field="name"
        )
    clean_phone = " ".join((phone or "").split()) or None
    if clean_phone is not None and (
        len(clean_phone) > MAX_PHONE_LENGTH
        or not all(ch.isdigit() or ch in "+-() ." for ch in clean_phone)
    ):
        raise UserError(
            "Enter the phone number with digits, spaces and + - ( ) only.", field="phone"
        )
    chosen: Locale | None = None
    if locale:
        try:
            chosen = Locale(locale)
        except ValueError:
            raise UserError("Choose a language.", field="locale") from None
    return Information(clean_name, clean_phone, chosen)


def update_information(
    session: Session,
    clock: Clock,
    *,
    actor_id: int,
    organization_id: int,
    person_id: int,
    information: Information,
) -> Person:
    """Edit a user's information: an Administrator anyone's of the organization, others their own.

    `organization_id` is the organization in whose name the change is made (the actor's role
    there decides), and the person must be one of its users.
    """
    authorize(session, actor_id, Action.EDIT_USER_INFORMATION, Target(organization_id, person_id))
    _membership, person = member(session, organization_id, person_id)
    changed = {
        field: {"before": before, "after": after}
        for field, before, after in (
            ("name", person.display_name, information.name),
            ("phone", person.phone, information.phone),
            (
                "locale",
                person.locale.value if person.locale else None,
                information.locale.value if information.locale else None,
            ),
        )
        if before != after
    }
    if not changed:
        return person
    person.display_name = information.name
    person.phone = information.phone
    person.locale = information.locale
    audit.record(
        session,
        clock,
        actor=f"person:{actor_id}",
        action="person.information_changed",
        entity_type="person",
        entity_id=person.id,
        organization_id=organization_id,
        changes=changed,
    )
    return person


def home_organization(session: Session, person_id: int) -> int:
    """An organization the person is an active user of (for changes to their own information)."""
    found = session.scalar(
        select(Membership.organization_id)
        .where(Membership.person_id == person_id, Membership.status == MembershipStatus.ACTIVE)
        .order_by(Membership.id)
        .limit(1)
    )
    if found is None:
        raise NotAMember("You are not a user of any organization.")
    return int(found)
