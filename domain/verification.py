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
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from db.enums import Locale, RegistrationStatus, Role, TokenPurpose
from db.models import Organization, Registration, VerificationToken
from domain import audit
from domain.clock import Clock
from domain.emails.outbox import enqueue
from domain.emails.render import render_email
from domain.organizations import display_name, name_for
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
    locale: Locale | None = None  # the organization's language, which its people's pages speak
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


# The link's page and its confirmation are the portal's hottest requests on the day a campaign
# goes out. They read and write through Core statements built once, here: no ORM objects are
# loaded, and nothing is rebuilt or re-keyed per request.
_tokens = cast(Table, VerificationToken.__table__)
_registrations = cast(Table, Registration.__table__)
_organizations = cast(Table, Organization.__table__)

_LOOKUP = (
    select(
        _tokens.c.id,
        _tokens.c.used_at,
        _tokens.c.revoked_at,
        _tokens.c.expires_at,
        _registrations.c.id.label("registration_id"),
        _registrations.c.organization_id,
        _registrations.c.name,
        _registrations.c.email,
        _registrations.c.role,
        _registrations.c.status,
        _registrations.c.verified_at,
        _organizations.c.name.label("organization_name"),
        _organizations.c.name_local.label("organization_name_local"),
        _organizations.c.locale,
    )
    .select_from(
        _tokens.join(_registrations, _registrations.c.id == _tokens.c.registration_id).join(
            _organizations, _organizations.c.id == _registrations.c.organization_id
        )
    )
    .where(
        _tokens.c.token_hash == bindparam("token_hash"),
        _tokens.c.purpose == TokenPurpose.VERIFY_EMAIL,
    )
)

# Of two concurrent confirmations exactly one consumes the token.
_CONSUME = (
    update(_tokens)
    .where(
        _tokens.c.id == bindparam("token_id"),
        _tokens.c.used_at.is_(None),
        _tokens.c.revoked_at.is_(None),
        _tokens.c.expires_at > bindparam("moment"),
    )
    .values(used_at=bindparam("moment"))
)

# A bounce can be a false alarm (a full mailbox): a click proves the address works.
_VERIFY = (
    update(_registrations)
    .where(
        _registrations.c.id == bindparam("registration_id"),
        or_(
            _registrations.c.status == RegistrationStatus.PENDING,
            _registrations.c.status == RegistrationStatus.BOUNCED,
        ),
    )
    .values(
        status=RegistrationStatus.VERIFIED,
        verified_at=bindparam("moment"),
        status_changed_at=bindparam("moment"),
    )
)


class _Link(NamedTuple):
    """A link with its registration and organization, as one row of `_LOOKUP`."""

    id: int
    used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    expires_at: dt.datetime
    registration_id: int
    organization_id: int
    name: str
    email: str
    role: Role
    status: RegistrationStatus
    verified_at: dt.datetime | None
    organization_name: str
    organization_name_local: str | None
    locale: Locale


def _lookup(session: Session, raw: str) -> _Link | None:
    if not looks_like_token(raw):
        return None
    session.flush()  # the caller's pending changes first (a no-op in the portal)
    row = session.connection().execute(_LOOKUP, {"token_hash": token_hash(raw)}).first()
    return None if row is None else _Link._make(row)


def _view(clock: Clock, link: _Link) -> LinkView:
    view = LinkView(
        state=LinkState.VALID,
        person_name=link.name,
        organization_name=name_for(
            link.organization_name, link.organization_name_local, link.locale
        ),
        email=link.email,
        role=link.role.value,
        registration_id=link.registration_id,
        expires_at=link.expires_at,
        verified_at=link.verified_at,
        locale=link.locale,
    )
    if link.verified_at is not None:
        return dataclasses.replace(view, state=LinkState.ALREADY_VERIFIED)
    if link.status is RegistrationStatus.WITHDRAWN:
        return dataclasses.replace(view, state=LinkState.WITHDRAWN)
    if (
        link.used_at is not None
        or link.revoked_at is not None
        or link.expires_at <= clock.now()
        or link.status not in (RegistrationStatus.PENDING, RegistrationStatus.BOUNCED)
    ):
        return dataclasses.replace(view, state=LinkState.EXPIRED)
    return view


def _sync_loaded(session: Session, entity: type[Any], ident: int, values: dict[str, Any]) -> None:
    """Tell an object the caller already holds what the Core UPDATE just wrote to its row."""
    if not len(session.identity_map):  # the portal's session: nothing loaded
        return
    loaded = session.identity_map.get(session.identity_key(entity, ident))
    if loaded is not None:
        for name, value in values.items():
            set_committed_value(loaded, name, value)


def inspect(session: Session, clock: Clock, raw: str) -> LinkView:
    """What the link would do, without doing it (safe for GET and link scanners)."""
    link = _lookup(session, raw)
    if link is None:
        return LinkView(LinkState.UNKNOWN)
    return _view(clock, link)


def confirm(session: Session, clock: Clock, raw: str, *, client: str | None = None) -> LinkView:
    """Verify the address behind the link, once. Safe to call again and from two places at once.

    The token is consumed by a conditional UPDATE, so of two concurrent confirmations exactly one
    wins; the other (and every later one) sees "already verified". The winner's path is one
    read, two conditional updates and the audit row: this is the portal's hottest request.
    """
    link = _lookup(session, raw)
    if link is None:
        return LinkView(LinkState.UNKNOWN)
    now = clock.now()
    # Core on the session's connection (its transaction): no ORM bookkeeping per statement.
    connection = session.connection()
    consumed = connection.execute(_CONSUME, {"token_id": link.id, "moment": now})
    if not consumed.rowcount:
        # Someone else used, replaced or outlived the link: read what is true now.
        return _view(clock, _lookup(session, raw) or link)
    _sync_loaded(session, VerificationToken, link.id, {"used_at": now})
    verified = connection.execute(_VERIFY, {"registration_id": link.registration_id, "moment": now})
    if not verified.rowcount:
        # Withdrawn or verified meanwhile (the link stays used: it was clicked).
        return _view(clock, _lookup(session, raw) or link)
    changes = {
        "status": RegistrationStatus.VERIFIED,
        "verified_at": now,
        "status_changed_at": now,
    }
    _sync_loaded(session, Registration, link.registration_id, changes)
    audit.append(
        session,
        clock,
        actor=f"person:{link.email}",
        action="registration.verified",
        entity_type="registration",
        entity_id=link.registration_id,
        organization_id=link.organization_id,
        token_id=link.id,
        client=client,
    )
    verified_link = link._replace(used_at=now, status=RegistrationStatus.VERIFIED, verified_at=now)
    return dataclasses.replace(_view(clock, verified_link), confirmed_now=True)


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
