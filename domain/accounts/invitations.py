"""Invitations: an Administrator adds a person to the organization by email and role.

Inviting queues the `invitation` email with a single-use link (only its hash is stored) and
revokes any earlier live invitation of the same address to the same organization. Accepting the
link creates the membership; a person without an account (or without a password yet) sets a
password on the same page, and the address is proved by the link having reached it. Looking at
the link consumes nothing; accepting is a conditional UPDATE, so it happens once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.enums import MembershipStatus, PersonStatus, Role
from db.models import Invitation, Membership, Organization, Person
from domain import audit
from domain.accounts import password_rules
from domain.accounts.activation import revoke as revoke_activation_links
from domain.accounts.activation import set_password
from domain.addresses import InvalidAddress, parse
from domain.clock import Clock
from domain.emails.outbox import enqueue
from domain.emails.render import render_email
from domain.organizations import display_name
from domain.registration import MAX_NAME_LENGTH
from domain.roles import Action, Target, authorize
from domain.settings import Settings
from domain.tokens import looks_like_token, new_token, token_hash

TEMPLATE = "invitation"


class InvitationError(ValueError):
    """The invitation cannot be made as asked; `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvitationState(StrEnum):
    VALID = "valid"
    ACCEPTED = "accepted"
    EXPIRED = "expired"  # out of time, or revoked (a newer one was sent, or it was withdrawn)
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class InvitationView:
    state: InvitationState
    invitation_id: int | None = None
    organization_id: int | None = None
    organization_name: str | None = None
    email: str | None = None
    name: str | None = None
    role: Role | None = None
    inviter_name: str | None = None
    expires_at: dt.datetime | None = None
    needs_password: bool = False  # the address has no account with a password yet


@dataclass(frozen=True)
class Invited:
    invitation: Invitation
    raw_token: str


@dataclass(frozen=True)
class AcceptResult:
    view: InvitationView
    verdict: password_rules.Verdict | None = None
    person: Person | None = None
    accepted_now: bool = False


def invite(
    session: Session,
    clock: Clock,
    settings: Settings,
    *,
    inviter_id: int,
    organization_id: int,
    name: str,
    email: str,
    role: Role | str,
) -> Invited:
    """Invite `email` to the organization as `role`; the caller commits (the email with it)."""
    authorize(session, inviter_id, Action.INVITE_USER, Target(organization_id))
    clean_name = " ".join((name or "").split())
    if not clean_name:
        raise InvitationError("Enter the person's name.", field="name")
    if len(clean_name) > MAX_NAME_LENGTH:
        raise InvitationError(
            f"The name is too long (at most {MAX_NAME_LENGTH} characters).", field="name"
        )
    try:
        chosen = Role(role)
    except ValueError:
        raise InvitationError("Choose an account type.", field="role") from None
    try:
        address = parse(email)
    except InvalidAddress as exc:
        raise InvitationError(str(exc), field="email") from None
    member = session.execute(
        select(Membership.id)
        .join(Person, Person.id == Membership.person_id)
        .where(
            Membership.organization_id == organization_id,
            Membership.status == MembershipStatus.ACTIVE,
            Person.email == address.normalized,
        )
    ).first()
    if member is not None:
        raise InvitationError(
            f"{address.normalized} is already a user of this organization.", field="email"
        )
    now = clock.now()
    revoked = session.execute(
        update(Invitation)
        .where(
            Invitation.organization_id == organization_id,
            Invitation.email == address.normalized,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    raw = new_token()
    invitation = Invitation(
        organization_id=organization_id,
        email=address.normalized,
        email_display=address.display,
        name=clean_name,
        role=chosen,
        invited_by_person_id=inviter_id,
        token_hash=token_hash(raw),
        created_at=now,
        expires_at=now + dt.timedelta(hours=settings.activation_token_ttl_hours),
    )
    session.add(invitation)
    session.flush()
    organization = session.get_one(Organization, organization_id)
    inviter = session.get_one(Person, inviter_id)
    rendered = render_email(
        TEMPLATE,
        organization.locale,
        {
            "person_name": clean_name,
            "email": address.normalized,
            "organization_name": display_name(organization),
            "role": chosen.value,
            "inviter_name": inviter.display_name,
            "invitation_url": settings.public_url(f"invitation/{raw}"),
            "expires_at": invitation.expires_at,
        },
        settings,
    )
    enqueue(
        session,
        key=f"{TEMPLATE}:{invitation.id}",
        template=TEMPLATE,
        locale=organization.locale,
        to_address=address.normalized,
        to_name=clean_name,
        rendered=rendered,
        clock=clock,
        organization_id=organization_id,
    )
    audit.record(
        session,
        clock,
        actor=f"person:{inviter_id}",
        action="invitation.sent",
        entity_type="invitation",
        entity_id=invitation.id,
        organization_id=organization_id,
        email=address.normalized,
        role=chosen.value,
        replaced=int(revoked.rowcount or 0),  # type: ignore[attr-defined]
    )
    return Invited(invitation, raw)


def pending(session: Session, clock: Clock, organization_id: int) -> list[Invitation]:
    """Invitations of the organization that can still be accepted, newest first."""
    return list(
        session.scalars(
            select(Invitation)
            .where(
                Invitation.organization_id == organization_id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > clock.now(),
            )
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        )
    )


def withdraw(
    session: Session, clock: Clock, *, actor_id: int, organization_id: int, invitation_id: int
) -> Invitation:
    """An Administrator takes an invitation back; its link stops working."""
    authorize(session, actor_id, Action.INVITE_USER, Target(organization_id))
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.organization_id != organization_id:
        raise InvitationError("This invitation does not exist.")
    if invitation.accepted_at is not None:
        raise InvitationError("This invitation has already been accepted.")
    if invitation.revoked_at is None:
        invitation.revoked_at = clock.now()
        audit.record(
            session,
            clock,
            actor=f"person:{actor_id}",
            action="invitation.withdrawn",
            entity_type="invitation",
            entity_id=invitation.id,
            organization_id=organization_id,
        )
    return invitation


def _lookup(session: Session, raw: str) -> Invitation | None:
    if not looks_like_token(raw):
        return None
    return session.scalars(
        select(Invitation).where(Invitation.token_hash == token_hash(raw))
    ).first()


def _view(session: Session, clock: Clock, invitation: Invitation) -> InvitationView:
    if invitation.accepted_at is not None:
        return InvitationView(InvitationState.ACCEPTED, invitation.id)
    if invitation.revoked_at is not None or invitation.expires_at <= clock.now():
        return InvitationView(InvitationState.EXPIRED)
    organization = session.get_one(Organization, invitation.organization_id)
    inviter = session.get_one(Person, invitation.invited_by_person_id)
    person = session.scalars(select(Person).where(Person.email == invitation.email)).first()
    return InvitationView(
        state=InvitationState.VALID,
        invitation_id=invitation.id,
        organization_id=organization.id,
        organization_name=display_name(organization),
        email=invitation.email,
        name=person.display_name if person is not None else invitation.name,
        role=invitation.role,
        inviter_name=inviter.display_name,
        expires_at=invitation.expires_at,
        needs_password=person is None
        or not person.password_hash
        or person.status is not PersonStatus.ACTIVE,
    )


def inspect(session: Session, clock: Clock, raw: str) -> InvitationView:
    """What the link would do, without doing it (safe for GET and link scanners)."""
    invitation = _lookup(session, raw)
    return (
        InvitationView(InvitationState.UNKNOWN)
        if invitation is None
        else _view(session, clock, invitation)
    )


def accept(
    session: Session,
    clock: Clock,
    settings: Settings,
    raw: str,
    *,
    password: str = "",
    confirmation: str = "",
    client: str | None = None,
) -> AcceptResult:
    """Accept the invitation once: the membership, and the account where there is none."""
    invitation = _lookup(session, raw)
    if invitation is None:
        return AcceptResult(InvitationView(InvitationState.UNKNOWN))
    view = _view(session, clock, invitation)
    if view.state is not InvitationState.VALID:
        return AcceptResult(view)
    organization = session.get_one(Organization, invitation.organization_id)
    if view.needs_password:
        verdict = password_rules.check(
            password,
            min_length=settings.password_min_length,
            confirmation=confirmation,
            context=[invitation.email, invitation.name, organization.legacy_login_id],
        )
        if not verdict.ok:
            return AcceptResult(view, verdict)
    now = clock.now()
    consumed = session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(accepted_at=now)
        .execution_options(synchronize_session=False)
    )
    if not consumed.rowcount:  # type: ignore[attr-defined]
        session.refresh(invitation)
        return AcceptResult(_view(session, clock, invitation))
    person = session.scalars(select(Person).where(Person.email == invitation.email)).first()
    if person is None:
        person = Person(
            email=invitation.email,
            display_name=invitation.name,
            status=PersonStatus.ACTIVE,
            created_at=now,
            activated_at=now,
        )
        session.add(person)
        session.flush()
    if view.needs_password:
        set_password(session, clock, person, password)
        person.status = PersonStatus.ACTIVE
        person.activated_at = person.activated_at or now
        revoke_activation_links(session, clock, person.id)
    membership = session.scalars(
        select(Membership).where(
            Membership.person_id == person.id,
            Membership.organization_id == invitation.organization_id,
        )
    ).first()
    if membership is None:
        session.add(
            Membership(
                person_id=person.id,
                organization_id=invitation.organization_id,
                role=invitation.role,
                status=MembershipStatus.ACTIVE,
                created_at=now,
            )
        )
    elif membership.status is not MembershipStatus.ACTIVE:
        membership.status = MembershipStatus.ACTIVE
        membership.role = invitation.role
        membership.disabled_at = None
    invitation.person_id = person.id
    audit.record(
        session,
        clock,
        actor=f"person:{person.id}",
        action="invitation.accepted",
        entity_type="invitation",
        entity_id=invitation.id,
        organization_id=invitation.organization_id,
        role=invitation.role.value,
        password_set=view.needs_password,
        client=client,
    )
    session.flush()
    return AcceptResult(
        dataclasses.replace(view, state=InvitationState.ACCEPTED), None, person, accepted_now=True
    )
