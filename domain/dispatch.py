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
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Exists

from db.enums import RegistrationStatus
from db.models import Registration, VerificationToken
from domain import audit
from domain.clock import Clock
from domain.deliverability import MxChecker
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
