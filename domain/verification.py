"""Verification links: issue, look at, confirm, expire.

Corporate mail gateways open links before people do, and some submit forms too. So looking at a
link (`inspect`) consumes nothing, and confirming (`confirm`) is idempotent: a second confirmation
of an address that is already verified answers "already verified on <date>", not an error.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from db.enums import RegistrationStatus, TokenPurpose
from db.models import Organization, Registration, VerificationToken
from domain import audit
from domain.clock import Clock
from domain.emails.outbox import enqueue
from domain.emails.render import render_email
from domain.organizations import display_name
from domain.registration import set_status
from domain.settings import Settings
from domain.tokens import looks_like_token, new_token, token_hash


class LinkState(StrEnum):
    VALID = "valid"  # can be confirmed now
    ALREADY_VERIFIED = "already_verified"
    EXPIRED = "expired"  # out of time, or replaced by a newer link
    WITHDRAWN = "withdrawn"  # the organization took the registration back
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class LinkView:
    """What a verification page may show. Unknown tokens reveal nothing about any account."""

    state: LinkState
    person_name: str | None = None
    organization_name: str | None = None
    email: str | None = None
    role: str | None = None
    verified_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    registration_id: int | None = None
    confirmed_now: bool = False  # this very call verified the address (not an earlier one)


def issue_link(
    session: Session,
    clock: Clock,
    settings: Settings,
    registration: Registration,
    *,
    template: str = "verification",
    actor: str = "system:verification",
) -> str:
    """A fresh link for a pending registration, emailed through the outbox; older links die.

    Returns the raw token (only the caller ever sees it; the database keeps its hash).
    """
    if registration.status not in (RegistrationStatus.PENDING, RegistrationStatus.EXPIRED):
        raise ValueError(f"registration {registration.id} is {registration.status.value}")
    now = clock.now()
    revoke_links(session, clock, registration)
    raw = new_token()
    token = VerificationToken(
        purpose=TokenPurpose.VERIFY_EMAIL,
        token_hash=token_hash(raw),
        registration_id=registration.id,
        created_at=now,
        expires_at=now + dt.timedelta(hours=settings.verification_token_ttl_hours),
    )
    session.add(token)
    if registration.status is RegistrationStatus.EXPIRED:
        set_status(session, clock, registration, RegistrationStatus.PENDING, actor)
    session.flush()
    organization = session.get_one(Organization, registration.organization_id)
    context: dict[str, object] = {
        "person_name": registration.name,
        "organization_name": display_name(organization),
        "role": registration.role.value,
        "email": registration.email,
        "verify_url": settings.public_url(f"verify/{raw}"),
        "expires_at": token.expires_at,
    }
    if template == "verification_nudge":
        context["days_waiting"] = (now - registration.submitted_at).days
    rendered = render_email(template, organization.locale, context, settings)
    enqueue(
        session,
        key=f"{template}:registration:{registration.id}:token:{token.id}",
        template=template,
        locale=organization.locale,
        to_address=registration.email,
        to_name=registration.name,
        rendered=rendered,
        clock=clock,
        organization_id=organization.id,
        registration_id=registration.id,
    )
    audit.record(
        session,
        clock,
        actor=actor,
        action="verification.link_issued",
        entity_type="registration",
        entity_id=registration.id,
        organization_id=registration.organization_id,
        token_id=token.id,
        template=template,
    )
    return raw


def revoke_links(session: Session, clock: Clock, registration: Registration) -> int:
    """Kill every unused link of the registration (a new one was sent, or it was withdrawn)."""
    result = session.execute(
        update(VerificationToken)
        .where(
            VerificationToken.registration_id == registration.id,
            VerificationToken.used_at.is_(None),
            VerificationToken.revoked_at.is_(None),
        )
        .values(revoked_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _lookup(
    session: Session, raw: str
) -> tuple[VerificationToken, Registration, Organization] | None:
    if not looks_like_token(raw):
        return None
    row = session.execute(
        select(VerificationToken, Registration, Organization)
        .join(Registration, Registration.id == VerificationToken.registration_id)
        .join(Organization, Organization.id == Registration.organization_id)
        .where(
            VerificationToken.token_hash == token_hash(raw),
            VerificationToken.purpose == TokenPurpose.VERIFY_EMAIL,
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2])


def _view(
    clock: Clock,
    token: VerificationToken,
    registration: Registration,
    organization: Organization,
) -> LinkView:
    view = LinkView(
        state=LinkState.VALID,
        person_name=registration.name,
        organization_name=display_name(organization),
        email=registration.email,
        role=registration.role.value,
        registration_id=registration.id,
        expires_at=token.expires_at,
        verified_at=registration.verified_at,
    )
    if registration.verified_at is not None:
        return dataclasses.replace(view, state=LinkState.ALREADY_VERIFIED)
    if registration.status is RegistrationStatus.WITHDRAWN:
        return dataclasses.replace(view, state=LinkState.WITHDRAWN)
    if (
        token.used_at is not None
        or token.revoked_at is not None
        or token.expires_at <= clock.now()
        or registration.status not in (RegistrationStatus.PENDING, RegistrationStatus.BOUNCED)
    ):
        return dataclasses.replace(view, state=LinkState.EXPIRED)
    return view


def inspect(session: Session, clock: Clock, raw: str) -> LinkView:
    """What the link would do, without doing it (safe for GET and link scanners)."""
    found = _lookup(session, raw)
    if found is None:
        return LinkView(LinkState.UNKNOWN)
    return _view(clock, *found)


def confirm(session: Session, clock: Clock, raw: str, *, client: str | None = None) -> LinkView:
    """Verify the address behind the link, once. Safe to call again and from two places at once.

    The token is consumed by a conditional UPDATE, so of two concurrent confirmations exactly one
    wins; the other (and every later one) sees "already verified". The winner's path is one
    read, two conditional updates and the audit row: this is the portal's hottest request.
    """
    found = _lookup(session, raw)
    if found is None:
        return LinkView(LinkState.UNKNOWN)
    token, registration, organization = found
    now = clock.now()
    consumed = session.execute(
        update(VerificationToken)
        .where(
            and_(
                VerificationToken.id == token.id,
                VerificationToken.used_at.is_(None),
                VerificationToken.revoked_at.is_(None),
                VerificationToken.expires_at > now,
            )
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if not consumed.rowcount:  # type: ignore[attr-defined]
        # Someone else used, replaced or outlived the link: read what is true now.
        session.refresh(token)
        session.refresh(registration)
        return _view(clock, token, registration, organization)
    set_committed_value(token, "used_at", now)
    verified = session.execute(
        update(Registration)
        .where(
            Registration.id == registration.id,
            # A bounce can be a false alarm (a full mailbox): a click proves the address works.
            Registration.status.in_([RegistrationStatus.PENDING, RegistrationStatus.BOUNCED]),
        )
        .values(
            status=RegistrationStatus.VERIFIED,
            verified_at=now,
            status_changed_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if not verified.rowcount:  # type: ignore[attr-defined]
        session.refresh(registration)  # withdrawn or verified meanwhile
        return _view(clock, token, registration, organization)
    for name, value in (
        ("status", RegistrationStatus.VERIFIED),
        ("verified_at", now),
        ("status_changed_at", now),
    ):
        set_committed_value(registration, name, value)
    audit.record(
        session,
        clock,
        actor=f"person:{registration.email}",
        action="registration.verified",
        entity_type="registration",
        entity_id=registration.id,
        organization_id=registration.organization_id,
        token_id=token.id,
        client=client,
    )
    return dataclasses.replace(_view(clock, token, registration, organization), confirmed_now=True)


def expire_stale(session: Session, clock: Clock, *, limit: int = 5000) -> int:
    """Pending registrations whose every link ran out become expired (they can be resent)."""
    now = clock.now()
    live_link = (
        select(VerificationToken.id)
        .where(
            VerificationToken.registration_id == Registration.id,
            VerificationToken.used_at.is_(None),
            VerificationToken.revoked_at.is_(None),
            VerificationToken.expires_at > now,
        )
        .exists()
    )
    any_link = (
        select(VerificationToken.id)
        .where(VerificationToken.registration_id == Registration.id)
        .exists()
    )
    stale = session.scalars(
        select(Registration)
        .where(Registration.status == RegistrationStatus.PENDING, any_link, ~live_link)
        .order_by(Registration.id)
        .limit(limit)
    ).all()
    for registration in stale:
        set_status(session, clock, registration, RegistrationStatus.EXPIRED, "system:verification")
    return len(stale)
