"""Verification dispatch: links for new registrations, expiry of dead links, one nudge each.

The portal only records a submission; this sends its link (`domain.verification.issue_link`),
so a slow mail server never slows the form. Each function handles at most `limit` registrations
inside the caller's transaction and reports what it did; the task that calls it commits each
batch and calls again until nothing is left.

* New: a pending registration that never had a link gets one — unless the MX check (optional)
  finds its domain cannot receive mail; it is then marked undeliverable and gets none.
* Expiry: a pending registration whose every link ran out becomes expired
  (`domain.verification.expire_stale`); the organization can send a new link from the portal.
* Nudge: a registration still pending ``unverified_nudge_after_days`` after its newest link was
  sent gets one reminder with a fresh link (the old link stops working), once: ``nudged_at`` is
  set by a conditional update, so two runs racing send one nudge. Counting from the newest link,
  not from the submission, spares a nudge to someone whose link went out a moment ago (a
  registration made long before the dispatch ran, or a link the organization just resent).
* Confirmation: a registration still verified gets the ``registration_confirmed`` email ("you
  are registered; on the switch date you get a link to set your password"), once: its
  idempotency key is ``confirmed:<registration id>``, and "not sent yet" is an anti-join on the
  outbox's unique key, so re-runs and racing runs queue nothing twice. The check does not rescan
  every verified registration every minute. Only registrations verified since a start are looked
  at, through the index ``ix_registrations_status_verified_at_id``: confirmations are queued in
  the order of verification, so the start is the verification of the newest registration whose
  confirmation is queued (found walking the index back from now, past the few verified since the
  last run), less ``CONFIRMATION_SETTLING`` for a verification that committed late — but never
  before ``registration_confirmed_within_days`` ago. A dispatch down for longer than that leaves
  the older ones without this email (nothing else depends on it), and so does raising the setting
  once newer ones were confirmed. Nothing is sent from the switch moment on: the email announces
  the switch, and a person verified later (a helpdesk catch-up) hears from the migration's
  activation email instead. A registration migrated, withdrawn or bounced before the dispatch ran
  is no longer verified and gets no stale "you are registered" (nor one whose migration is rolled
  back: it was verified long before the newest confirmation).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, String, cast, func, literal, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Exists

from db.enums import Locale, RegistrationStatus, Role
from db.models import Message, Organization, Registration, VerificationToken
from domain import audit
from domain.clock import Calendar, Clock
from domain.deliverability import MxChecker
from domain.emails.outbox import OutboxItem, enqueue_deliverable
from domain.emails.render import render_email
from domain.emails.rendered import RenderedEmail
from domain.mailing import StencilCache
from domain.organizations import name_for
from domain.settings import Settings
from domain.verification import expire_stale, issue_link

ACTOR = "flow:verification-dispatch"


@dataclass
class LinkBatch:
    sent: int = 0
    undeliverable: int = 0
    undeliverable_examples: list[str] = field(default_factory=list)  # "email: reason"
    seen: int = 0  # registrations looked at (a full batch means: call again)


def _live_link(now: dt.datetime) -> Exists:
    return (
        select(VerificationToken.id)
        .where(
            VerificationToken.registration_id == Registration.id,
            VerificationToken.used_at.is_(None),
            VerificationToken.revoked_at.is_(None),
            VerificationToken.expires_at > now,
        )
        .exists()
    )


def _any_link() -> Exists:
    return (
        select(VerificationToken.id)
        .where(VerificationToken.registration_id == Registration.id)
        .exists()
    )


def _link_since(moment: dt.datetime) -> Exists:
    return (
        select(VerificationToken.id)
        .where(
            VerificationToken.registration_id == Registration.id,
            VerificationToken.created_at > moment,
        )
        .exists()
    )


def _locked(session: Session, query: Select[Registration]) -> Select[Registration]:
    # Another dispatcher (a second worker, a manual run) passes over rows this one is handling;
    # SQLite serializes writers anyway.
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True, of=Registration)
    return query


def new_registrations(session: Session, *, limit: int) -> list[Registration]:
    """Pending registrations that never had a link and are not known to be undeliverable."""
    query = (
        select(Registration)
        .where(
            Registration.status == RegistrationStatus.PENDING,
            Registration.undeliverable_reason.is_(None),
            ~_any_link(),
        )
        .order_by(Registration.submitted_at, Registration.id)
        .limit(limit)
    )
    return list(session.scalars(_locked(session, query)))


def send_links(
    session: Session,
    clock: Clock,
    settings: Settings,
    *,
    limit: int = 200,
    checker: MxChecker | None = None,
    dry_run: bool = False,
) -> LinkBatch:
    """Send the first link to up to `limit` new registrations (see the module notes)."""
    batch = LinkBatch()
    for registration in new_registrations(session, limit=limit):
        batch.seen += 1
        verdict = checker.check_address(registration.email) if checker else None
        if verdict is not None and verdict.undeliverable:
            batch.undeliverable += 1
            if len(batch.undeliverable_examples) < 10:
                batch.undeliverable_examples.append(f"{registration.email}: {verdict.reason}")
            if not dry_run:
                registration.undeliverable_reason = verdict.reason
                audit.record(
                    session,
                    clock,
                    actor=ACTOR,
                    action="registration.undeliverable",
                    entity_type="registration",
                    entity_id=registration.id,
                    organization_id=registration.organization_id,
                    reason=verdict.reason,
                )
            continue
        batch.sent += 1
        if not dry_run:
            issue_link(session, clock, settings, registration, actor=ACTOR)
    return batch


def stale_count(session: Session, clock: Clock) -> int:
    """How many registrations `expire` would expire now (for dry runs)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Registration)
            .where(
                Registration.status == RegistrationStatus.PENDING,
                _any_link(),
                ~_live_link(clock.now()),
            )
        )
        or 0
    )


def expire(session: Session, clock: Clock, *, limit: int = 1000) -> int:
    return expire_stale(session, clock, limit=limit)


def due_for_nudge(
    session: Session, clock: Clock, settings: Settings, *, limit: int
) -> list[Registration]:
    now = clock.now()
    cutoff = now - dt.timedelta(days=settings.unverified_nudge_after_days)
    query = (
        select(Registration)
        .where(
            Registration.status == RegistrationStatus.PENDING,
            Registration.nudged_at.is_(None),
            Registration.undeliverable_reason.is_(None),
            _live_link(now),
            ~_link_since(cutoff),
        )
        .order_by(Registration.submitted_at, Registration.id)
        .limit(limit)
    )
    return list(session.scalars(_locked(session, query)))


def send_nudges(
    session: Session,
    clock: Clock,
    settings: Settings,
    *,
    limit: int = 200,
    dry_run: bool = False,
) -> tuple[int, int]:
    """Nudge up to `limit` registrations; (nudged, looked at)."""
    due = due_for_nudge(session, clock, settings, limit=limit)
    if dry_run:
        return len(due), len(due)
    nudged = 0
    now = clock.now()
    for registration in due:
        claimed = session.execute(
            update(Registration)
            .where(Registration.id == registration.id, Registration.nudged_at.is_(None))
            .values(nudged_at=now)
            .execution_options(synchronize_session=False)
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            continue  # another run nudged it a moment ago
        registration.nudged_at = now
        issue_link(
            session, clock, settings, registration, template="verification_nudge", actor=ACTOR
        )
        nudged += 1
    return nudged, len(due)


# --- the "registration confirmed" email ---

CONFIRMATION_TEMPLATE = "registration_confirmed"
CONFIRMATION_KEY_PREFIX = "confirmed:"
# What differs between two people's confirmations; the role is one of three and fixed per stencil.
_CONFIRMATION_VALUES = ("person_name", "email", "organization_name")
# Confirmations are queued in the order of verification; a verification that committed a little
# after a later one was already confirmed is still found this far behind it (the portal's
# confirmation is one short transaction).
CONFIRMATION_SETTLING = dt.timedelta(minutes=30)


def confirmation_key(registration_id: int) -> str:
    """The confirmation's idempotency key: one per registration, however often dispatch runs."""
    return f"{CONFIRMATION_KEY_PREFIX}{registration_id}"


@dataclass
class ConfirmationBatch:
    sent: int = 0  # queued now (a dry run: would be queued)
    invalid: int = 0  # addresses the outbox refuses: left out, counted
    seen: int = 0  # registrations looked at (a full batch means: call again)


@dataclass(frozen=True)
class Unconfirmed:
    registration_id: int
    organization_id: int
    name: str
    email: str
    role: Role
    organization_name: str
    locale: Locale


def confirmation_horizon(clock: Clock, settings: Settings) -> dt.datetime:
    """Verifications before this moment are not looked at (see the module notes)."""
    return clock.now() - dt.timedelta(days=settings.registration_confirmed_within_days)


def _confirmation_sent() -> Exists:
    # The outbox's unique index on idempotency_key answers it, one probe per registration.
    key = literal(CONFIRMATION_KEY_PREFIX, String) + cast(Registration.id, String)
    return select(Message.id).where(Message.idempotency_key == key).exists()


def _confirmed_up_to(session: Session, since: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """When the newest registration verified since `since` whose confirmation is queued was
    verified: walking the index back from now, usually a few rows (the newly verified) away."""
    return session.scalar(
        select(Registration.verified_at)
        .where(
            Registration.status == RegistrationStatus.VERIFIED,
            Registration.verified_at >= since,
            Registration.verified_at <= now,
            _confirmation_sent(),
        )
        .order_by(Registration.verified_at.desc(), Registration.id.desc())
        .limit(1)
    )


def confirmations_start(session: Session, clock: Clock, settings: Settings) -> dt.datetime:
    """Verifications before this moment are not looked at (see the module notes)."""
    now = clock.now()
    horizon = confirmation_horizon(clock, settings)
    confirmed = _confirmed_up_to(session, horizon, now)
    if confirmed is None:
        return horizon
    return max(horizon, confirmed - CONFIRMATION_SETTLING)


def unconfirmed(
    session: Session, clock: Clock, settings: Settings, *, limit: int
) -> list[Unconfirmed]:
    """Registrations verified since the start, still verified, without their confirmation."""
    now = clock.now()
    if now >= Calendar.from_settings(settings).switch_at:
        return []
    query = (
        select(
            Registration.id,
            Registration.organization_id,
            Registration.name,
            Registration.email,
            Registration.role,
            Organization.name,
            Organization.name_local,
            Organization.locale,
        )
        .join(Organization, Organization.id == Registration.organization_id)
        .where(
            Registration.status == RegistrationStatus.VERIFIED,
            Registration.verified_at >= confirmations_start(session, clock, settings),
            # A rehearsal standing on an earlier moment does not see later verifications.
            Registration.verified_at <= now,
            ~_confirmation_sent(),
        )
        .order_by(Registration.verified_at, Registration.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Like the other steps: a second dispatcher passes over the rows this one is handling.
        query = query.with_for_update(skip_locked=True, of=Registration.__table__)
    return [
        Unconfirmed(
            registration_id=row[0],
            organization_id=row[1],
            name=row[2],
            email=row[3],
            role=row[4],
            organization_name=name_for(row[5], row[6], row[7]),
            locale=row[7],
        )
        for row in session.execute(query)
    ]


def send_confirmations(
    session: Session,
    clock: Clock,
    settings: Settings,
    *,
    limit: int = 200,
    stencils: StencilCache | None = None,
    dry_run: bool = False,
) -> ConfirmationBatch:
    """Queue the confirmation of up to `limit` newly verified registrations (see the notes).

    `stencils` (shared by the batches of a run) renders each language and role once and fills
    in the person; without it every email is rendered in full (the same bytes).
    """
    due = unconfirmed(session, clock, settings, limit=limit)
    batch = ConfirmationBatch(seen=len(due))
    if dry_run:
        batch.sent = len(due)
        return batch
    items = [
        OutboxItem(
            key=confirmation_key(row.registration_id),
            template=CONFIRMATION_TEMPLATE,
            locale=row.locale,
            to_address=row.email,
            to_name=row.name,
            rendered=_render_confirmation(row, settings, stencils),
            organization_id=row.organization_id,
            registration_id=row.registration_id,
        )
        for row in due
    ]
    queued, refused = enqueue_deliverable(session, items, clock=clock)
    batch.sent, batch.invalid = queued.created, len(refused)
    return batch


def _render_confirmation(
    row: Unconfirmed, settings: Settings, stencils: StencilCache | None
) -> RenderedEmail:
    values: dict[str, Any] = {
        "person_name": row.name,
        "email": row.email,
        "organization_name": row.organization_name,
    }
    fixed = {"role": row.role.value}
    if stencils is None:
        return render_email(CONFIRMATION_TEMPLATE, row.locale, fixed | values, settings)
    stencil = stencils.get(CONFIRMATION_TEMPLATE, row.locale.value, fixed, _CONFIRMATION_VALUES)
    return stencil.render(values)
