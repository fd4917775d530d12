"""Activation links: "your individual login is ready — set your password".

The migration issues one per person (not per membership) when it creates the account; the link
opens a page that sets the password. Like verification links, looking at the link (`inspect`)
consumes nothing — mail gateways open links before people do — and only the POST that sets the
password uses it up, with a conditional UPDATE so that of two concurrent uses exactly one wins.
The token is 256 random bits; only its SHA-256 is stored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.enums import Locale, MembershipStatus, PersonStatus, Role, TokenPurpose
from db.models import Membership, Organization, Person, VerificationToken
from domain import audit
from domain.accounts import password_rules
from domain.clock import Clock
from domain.emails.outbox import enqueue
from domain.emails.render import render_email
from domain.organizations import display_name
from domain.passwords import hash_password
from domain.settings import Settings
from domain.tokens import looks_like_token, new_token, token_hash

TEMPLATE = "migration_activation"


class ActivationState(StrEnum):
    VALID = "valid"
    ALREADY_ACTIVE = "already_active"  # this link (or another) already set the password
    EXPIRED = "expired"  # out of time, replaced by a newer link, or the account was disabled
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class MembershipLine:
    organization_id: int
    organization_name: str
    login_id: str
    role: Role


@dataclass(frozen=True)
class ActivationView:
    state: ActivationState
    person_id: int | None = None
    email: str | None = None
    name: str | None = None
    expires_at: dt.datetime | None = None
    memberships: tuple[MembershipLine, ...] = ()


@dataclass(frozen=True)
class ActivationResult:
    view: ActivationView
    verdict: password_rules.Verdict | None = None  # the password's problems, if it was refused
    activated_now: bool = False


def key(person_id: int, hashed: str) -> str:
    """The outbox key of one activation email: one per link issued to the person."""
    return f"{TEMPLATE}:person:{person_id}:{hashed[:16]}"


def url(settings: Settings, raw: str) -> str:
    return settings.public_url(f"activate/{raw}")


def memberships_of(
    session: Session, person_id: int, locale: Locale | None = None
) -> tuple[MembershipLine, ...]:
    """The person's active memberships, organizations named for `locale` readers."""
    rows = session.execute(
        select(Membership.role, Organization)
        .join(Organization, Organization.id == Membership.organization_id)
        .where(Membership.person_id == person_id, Membership.status == MembershipStatus.ACTIVE)
        .order_by(Organization.name, Organization.id)
    ).all()
    return tuple(
        MembershipLine(org.id, display_name(org, locale), org.legacy_login_id, role)
        for role, org in rows
    )


def consume(session: Session, token: VerificationToken, now: dt.datetime) -> bool:
    """Mark the link used if it is still live: one conditional UPDATE, so of two requests racing
    with the same link exactly one wins (False: it was used, revoked or expired meanwhile)."""
    consumed = session.execute(
        update(VerificationToken)
        .where(
            VerificationToken.id == token.id,
            VerificationToken.used_at.is_(None),
            VerificationToken.revoked_at.is_(None),
            VerificationToken.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(consumed.rowcount)  # type: ignore[attr-defined]


def revoke(
    session: Session,
    clock: Clock,
    person_id: int,
    purpose: TokenPurpose = TokenPurpose.ACTIVATE_ACCOUNT,
) -> int:
    """Kill every unused link of the person for `purpose` (activation by default): a new one was
    sent, one was used, or the person was disabled."""
    result = session.execute(
        update(VerificationToken)
        .where(
            VerificationToken.person_id == person_id,
            VerificationToken.purpose == purpose,
            VerificationToken.used_at.is_(None),
            VerificationToken.revoked_at.is_(None),
        )
        .values(revoked_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def issue(
    session: Session,
    clock: Clock,
    settings: Settings,
    person: Person,
    *,
    locale: Locale,
    actor: str,
) -> str:
    """A fresh link for a person without a password, emailed through the outbox; older links die.

    (The migration issues links in bulk with the same key and token shape.) Returns the raw token.
    """
    if person.status is not PersonStatus.PENDING_ACTIVATION:
        raise ValueError(f"person {person.id} is {person.status.value}, not awaiting activation")
    now = clock.now()
    revoke(session, clock, person.id)
    raw = new_token()
    hashed = token_hash(raw)
    token = VerificationToken(
        purpose=TokenPurpose.ACTIVATE_ACCOUNT,
        token_hash=hashed,
        person_id=person.id,
        created_at=now,
        expires_at=now + dt.timedelta(hours=settings.activation_token_ttl_hours),
    )
    session.add(token)
    session.flush()
    lines = memberships_of(session, person.id, locale)
    rendered = render_email(
        TEMPLATE,
        locale,
        {
            "person_name": person.display_name,
            "email": person.email,
            "activation_url": url(settings, raw),
            "expires_at": token.expires_at,
            "memberships": [
                {"organization_name": line.organization_name, "role": line.role.value}
                for line in lines
            ],
        },
        settings,
    )
    enqueue(
        session,
        key=key(person.id, hashed),
        template=TEMPLATE,
        locale=locale,
        to_address=person.email,
        to_name=person.display_name,
        rendered=rendered,
        clock=clock,
        person_id=person.id,
    )
    audit.record(
        session,
        clock,
        actor=actor,
        action="person.activation_link_issued",
        entity_type="person",
        entity_id=person.id,
        token_id=token.id,
    )
    return raw


def _lookup(session: Session, raw: str) -> tuple[VerificationToken, Person] | None:
    if not looks_like_token(raw):
        return None
    row = session.execute(
        select(VerificationToken, Person)
        .join(Person, Person.id == VerificationToken.person_id)
        .where(
            VerificationToken.token_hash == token_hash(raw),
            VerificationToken.purpose == TokenPurpose.ACTIVATE_ACCOUNT,
        )
    ).first()
    return None if row is None else (row[0], row[1])


def _view(
    session: Session, clock: Clock, token: VerificationToken, person: Person
) -> ActivationView:
    view = ActivationView(
        state=ActivationState.VALID,
        person_id=person.id,
        email=person.email,
        name=person.display_name,
        expires_at=token.expires_at,
        memberships=memberships_of(session, person.id, person.locale),
    )
    if person.status is PersonStatus.ACTIVE and person.password_hash:
        return dataclasses.replace(view, state=ActivationState.ALREADY_ACTIVE)
    if (
        token.used_at is not None
        or token.revoked_at is not None
        or token.expires_at <= clock.now()
        or person.status is not PersonStatus.PENDING_ACTIVATION
    ):
        # Nothing more about the account for a dead link.
        return ActivationView(ActivationState.EXPIRED)
    return view


def inspect(session: Session, clock: Clock, raw: str) -> ActivationView:
    """What the link would do, without doing it (safe for GET and link scanners)."""
    found = _lookup(session, raw)
    return (
        ActivationView(ActivationState.UNKNOWN) if found is None else _view(session, clock, *found)
    )


def password_context(person: Person, lines: Sequence[MembershipLine]) -> list[str]:
    """What a password must not be built from: the address, the name, the organizations' IDs."""
    return [person.email, person.display_name, *(line.login_id for line in lines)]


def activate(
    session: Session,
    clock: Clock,
    settings: Settings,
    raw: str,
    *,
    password: str,
    confirmation: str,
    client: str | None = None,
) -> ActivationResult:
    """Set the person's first password through the link, once; the caller commits."""
    found = _lookup(session, raw)
    if found is None:
        return ActivationResult(ActivationView(ActivationState.UNKNOWN))
    token, person = found
    view = _view(session, clock, token, person)
    if view.state is not ActivationState.VALID:
        return ActivationResult(view)
    verdict = password_rules.check(
        password,
        min_length=settings.password_min_length,
        confirmation=confirmation,
        context=password_context(person, view.memberships),
    )
    if not verdict.ok:
        return ActivationResult(view, verdict)
    now = clock.now()
    if not consume(session, token, now):
        session.refresh(token)
        session.refresh(person)
        return ActivationResult(_view(session, clock, token, person))
    set_password(session, clock, person, password)
    person.status = PersonStatus.ACTIVE
    person.activated_at = person.activated_at or now
    revoke(session, clock, person.id)
    audit.record(
        session,
        clock,
        actor=f"person:{person.id}",
        action="person.activated",
        entity_type="person",
        entity_id=person.id,
        token_id=token.id,
        client=client,
    )
    return ActivationResult(dataclasses.replace(view, state=ActivationState.VALID), None, True)


def set_password(session: Session, clock: Clock, person: Person, password: str) -> None:
    """Store the hash of an already checked password (normalized as log-in normalizes it)."""
    person.password_hash = hash_password(password_rules.normalize(password))
    person.password_changed_at = clock.now()
    session.flush()
