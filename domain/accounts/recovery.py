"""Getting back in without the helpdesk: a new activation link, or a password-reset link.

Anyone may type an email address on the log-in page's "forgot your password" form. What they are
told never depends on the address (whether it has an account, a password, or a disabled account):
the portal answers "if an account exists, we have sent a link" every time, and only the person
who owns the mailbox learns more. Requests are counted per address and per client address with
the log-in's throttle (`domain.throttle`), so nobody floods a mailbox or walks a list of addresses.

Behind that one answer:

- an address of an active person gets a **password-reset link** (`password_reset` email): 256
  random bits, only the hash stored, single use, ``password_reset_token_ttl_hours``; a newer link
  revokes the older ones. Setting a new password through it changes the password hash, so every
  other session of the person ends (`login.session_fingerprint`).
- an address of a person who never set a password gets a **fresh activation link**
  (`activation_resent` email) for the activation page; older activation links die.
- an unknown or disabled address (a rolled-back wave) gets nothing.

A double submit sends one email: while a link of the same kind sent less than `RESEND_AFTER` ago
is still unused, nothing new is sent (the first email is on its way), and the outbox key names
the person and the `RESEND_AFTER` slot, so two requests racing each other queue one message. The
email is queued in the caller's transaction and the outbox sender delivers it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.enums import Locale, MembershipStatus, PersonStatus, TokenPurpose
from db.models import Membership, Organization, Person, VerificationToken
from domain import audit, throttle
from domain.accounts import activation, login, password_rules
from domain.addresses import parse
from domain.clock import Clock
from domain.emails.outbox import enqueue
from domain.emails.render import render_email
from domain.settings import Settings
from domain.tokens import looks_like_token, new_token, token_hash

RESET_TEMPLATE = "password_reset"
ACTIVATION_TEMPLATE = "activation_resent"
WINDOW = dt.timedelta(hours=1)
# A person asks a few times at most; a company behind one address may have many people asking
# on the morning of the switch.
PER_ADDRESS = throttle.Limit("recovery_email", 5, WINDOW)
PER_CLIENT = throttle.Limit("recovery_ip", 60, WINDOW)
# The outbox sender runs every few minutes: a second request within this time finds the first
# email still on its way and sends nothing more.
RESEND_AFTER = dt.timedelta(minutes=5)


class Outcome(StrEnum):
    ACCEPTED = "accepted"  # the one answer: "if an account exists, we have sent a link"
    THROTTLED = "throttled"


class Sent(StrEnum):
    """What happened behind the one answer: for the audit trail and tests, never for the page."""

    RESET_LINK = "reset_link"
    ACTIVATION_LINK = "activation_link"
    NOTHING = "nothing"  # unknown or disabled address, or a link of the same kind just went out


@dataclass(frozen=True)
class RecoveryRequest:
    outcome: Outcome
    sent: Sent = Sent.NOTHING
    retry_after: dt.timedelta = dt.timedelta(0)

    @property
    def retry_after_minutes(self) -> int:
        return throttle.Verdict(False, self.retry_after).retry_after_minutes


def normalize_address(raw: str) -> str:
    """The address to look up, or `InvalidAddress` (with the reason) when it cannot be one.

    Only the shape is judged, never the database, so the error reveals nothing about accounts.
    """
    return parse((raw or "")[: login.MAX_EMAIL_LENGTH]).normalized


def _slot(moment: dt.datetime) -> int:
    return int(moment.timestamp() // RESEND_AFTER.total_seconds())


def key(template: str, person_id: int, moment: dt.datetime) -> str:
    """The outbox key of one requested email: one per person, kind and `RESEND_AFTER` slot."""
    return f"{template}:person:{person_id}:slot:{_slot(moment)}"


def email_locale(session: Session, person: Person, fallback: Locale) -> Locale:
    """The person's language, else their first organization's, else the page's."""
    if person.locale is not None:
        return person.locale
    locale = session.scalar(
        select(Organization.locale)
        .join(Membership, Membership.organization_id == Organization.id)
        .where(Membership.person_id == person.id, Membership.status == MembershipStatus.ACTIVE)
        .order_by(Membership.id)
        .limit(1)
    )
    return locale or fallback


def _recent_link(
    session: Session, clock: Clock, person_id: int, purpose: TokenPurpose
) -> int | None:
    """A live link of this kind sent to the person less than `RESEND_AFTER` ago, if any."""
    now = clock.now()
    return session.scalar(
        select(VerificationToken.id)
        .where(
            VerificationToken.person_id == person_id,
            VerificationToken.purpose == purpose,
            VerificationToken.used_at.is_(None),
            VerificationToken.revoked_at.is_(None),
            VerificationToken.expires_at > now,
            VerificationToken.created_at > now - RESEND_AFTER,
        )
        .limit(1)
    )


def request_link(
    session: Session,
    clock: Clock,
    settings: Settings,
    *,
    email: str,
    client: str,
    locale: Locale,
) -> RecoveryRequest:
    """Handle one "forgot your password" request for an already normalized `email`.

    `locale` is the page's language, used only for a person whose language is unknown. The
    caller commits: the throttle's count, the token and the email go in together.
    """
    throttle.prune(session, clock)
    for limit, counted in ((PER_CLIENT, client), (PER_ADDRESS, email)):
        verdict = throttle.check(session, clock, limit, counted)
        if not verdict.allowed:
            return RecoveryRequest(Outcome.THROTTLED, retry_after=verdict.retry_after)
    throttle.record(session, clock, PER_CLIENT.bucket, client)
    throttle.record(session, clock, PER_ADDRESS.bucket, email)
    person = session.scalars(select(Person).where(Person.email == email)).first()
    if person is None or person.status is PersonStatus.DISABLED:
        return RecoveryRequest(Outcome.ACCEPTED)
    if person.status is PersonStatus.PENDING_ACTIVATION:
        purpose, template = TokenPurpose.ACTIVATE_ACCOUNT, ACTIVATION_TEMPLATE
    else:
        purpose, template = TokenPurpose.RESET_PASSWORD, RESET_TEMPLATE
    if _recent_link(session, clock, person.id, purpose) is not None:
        return RecoveryRequest(Outcome.ACCEPTED)
    sent = _send_link(
        session,
        clock,
        settings,
        person,
        purpose=purpose,
        template=template,
        locale=email_locale(session, person, locale),
        client=client,
    )
    return RecoveryRequest(Outcome.ACCEPTED, sent)


def _send_link(
    session: Session,
    clock: Clock,
    settings: Settings,
    person: Person,
    *,
    purpose: TokenPurpose,
    template: str,
    locale: Locale,
    client: str,
) -> Sent:
    """Queue the email first: if a racing request already queued this slot's, change nothing."""
    now = clock.now()
    raw = new_token()
    if purpose is TokenPurpose.ACTIVATE_ACCOUNT:
        expires_at = now + dt.timedelta(hours=settings.activation_token_ttl_hours)
        context: dict[str, object] = {
            "activation_url": activation.url(settings, raw),
            "memberships": [
                {"organization_name": line.organization_name, "role": line.role.value}
                for line in activation.memberships_of(session, person.id, locale)
            ],
        }
        sent, action = Sent.ACTIVATION_LINK, "person.activation_link_issued"
    else:
        expires_at = now + dt.timedelta(hours=settings.password_reset_token_ttl_hours)
        context = {"reset_url": reset_url(settings, raw)}
        sent, action = Sent.RESET_LINK, "person.password_reset_link_issued"
    rendered = render_email(
        template,
        locale,
        {
            "person_name": person.display_name,
            "email": person.email,
            "expires_at": expires_at,
            **context,
        },
        settings,
    )
    queued = enqueue(
        session,
        key=key(template, person.id, now),
        template=template,
        locale=locale,
        to_address=person.email,
        to_name=person.display_name,
        rendered=rendered,
        clock=clock,
        person_id=person.id,
    )
    if not queued.created:
        return Sent.NOTHING
    if purpose is TokenPurpose.ACTIVATE_ACCOUNT:
        replaced = activation.revoke(session, clock, person.id)
    else:
        replaced = activation.revoke(session, clock, person.id, TokenPurpose.RESET_PASSWORD)
    token = VerificationToken(
        purpose=purpose,
        token_hash=token_hash(raw),
        person_id=person.id,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        clock,
        actor=f"client:{client}",
        action=action,
        entity_type="person",
        entity_id=person.id,
        token_id=token.id,
        replaced=replaced,
        requested=True,
    )
    return sent


# --- the reset link ----------------------------------------------------------------------------


class ResetState(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"  # used, out of time, replaced by a newer link, or the account is off
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ResetView:
    state: ResetState
    person_id: int | None = None
    email: str | None = None
    name: str | None = None
    expires_at: dt.datetime | None = None


@dataclass(frozen=True)
class ResetResult:
    view: ResetView
    verdict: password_rules.Verdict | None = None  # the password's problems, if it was refused
    person: Person | None = None
    reset_now: bool = False


def reset_url(settings: Settings, raw: str) -> str:
    return settings.public_url(f"reset-password/{raw}")


def _lookup(session: Session, raw: str) -> tuple[VerificationToken, Person] | None:
    if not looks_like_token(raw):
        return None
    row = session.execute(
        select(VerificationToken, Person)
        .join(Person, Person.id == VerificationToken.person_id)
        .where(
            VerificationToken.token_hash == token_hash(raw),
            VerificationToken.purpose == TokenPurpose.RESET_PASSWORD,
        )
    ).first()
    return None if row is None else (row[0], row[1])


def _view(clock: Clock, token: VerificationToken, person: Person) -> ResetView:
    if (
        token.used_at is not None
        or token.revoked_at is not None
        or token.expires_at <= clock.now()
        or person.status is not PersonStatus.ACTIVE
    ):
        return ResetView(ResetState.EXPIRED)  # nothing about the account for a dead link
    return ResetView(
        ResetState.VALID,
        person_id=person.id,
        email=person.email,
        name=person.display_name,
        expires_at=token.expires_at,
    )


def inspect(session: Session, clock: Clock, raw: str) -> ResetView:
    """What the link would do, without doing it (safe for GET and link scanners)."""
    found = _lookup(session, raw)
    return ResetView(ResetState.UNKNOWN) if found is None else _view(clock, *found)


def reset_password(
    session: Session,
    clock: Clock,
    settings: Settings,
    raw: str,
    *,
    password: str,
    confirmation: str,
    client: str | None = None,
) -> ResetResult:
    """Set a new password through the link, once; the caller commits."""
    found = _lookup(session, raw)
    if found is None:
        return ResetResult(ResetView(ResetState.UNKNOWN))
    token, person = found
    view = _view(clock, token, person)
    if view.state is not ResetState.VALID:
        return ResetResult(view)
    verdict = password_rules.check(
        password,
        min_length=settings.password_min_length,
        confirmation=confirmation,
        context=activation.password_context(person, activation.memberships_of(session, person.id)),
    )
    if not verdict.ok:
        return ResetResult(view, verdict)
    if not activation.consume(session, token, clock.now()):
        session.refresh(token)
        session.refresh(person)
        return ResetResult(_view(clock, token, person))
    # A new hash: every session made with the old one ends at its next request.
    activation.set_password(session, clock, person, password)
    activation.revoke(session, clock, person.id, TokenPurpose.RESET_PASSWORD)
    # The failed log-ins that may have led here no longer lock the address out.
    throttle.clear(session, login.PER_ADDRESS.bucket, person.email)
    audit.record(
        session,
        clock,
        actor=f"person:{person.id}",
        action="person.password_reset",
        entity_type="person",
        entity_id=person.id,
        token_id=token.id,
        client=client,
    )
    return ResetResult(view, None, person, reset_now=True)
