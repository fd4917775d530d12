"""Bounce processing: what a delivery report means for the outbox, registrations and contacts.

A permanent failure (5.x.x) of an address marks, in one transaction:
- the outbox messages it concerns ``bounced`` — the one whose Message-ID the report quotes, or
  else every sent message to that address;
- the address's live registrations that still wait for it (pending, verified) ``bounced``, with
  the remote server's reason, so the organization is asked for a better address;
- the organization contacts with that address as bounced, so campaigns stop writing to them.
A temporary failure (4.x.x) only leaves a note on the message: the relay is still retrying.

Everything is idempotent: a record already in the target state is left alone and gets no second
audit event, so a report read twice (after a crash between commit and moving the message aside)
changes nothing the second time.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import idna
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.enums import MessageStatus, RegistrationStatus
from db.models import Message, OrganizationContact, Registration
from domain import audit
from domain.addresses import normalize
from domain.clock import Clock
from domain.context import App
from domain.emails.bounce_mailbox import BounceMailbox
from domain.emails.dsn import DeliveryReport, Failure, parse_report
from domain.registration import set_status

log = logging.getLogger(__name__)

ACTOR = "system:bounces"
# Registrations that still depend on the address working; migrated ones are accounts by now.
BOUNCEABLE_REGISTRATIONS = (RegistrationStatus.PENDING, RegistrationStatus.VERIFIED)


@dataclass
class ReportChanges:
    """What applying one report changed (all zero the second time)."""

    messages: int = 0
    registrations: int = 0
    contacts: int = 0
    notes: int = 0

    def add(self, other: ReportChanges) -> None:
        self.messages += other.messages
        self.registrations += other.registrations
        self.contacts += other.contacts
        self.notes += other.notes


@dataclass
class BounceSummary:
    """One run over a bounce mailbox."""

    read: int = 0  # messages looked at
    reports: int = 0  # of which delivery reports (applied and moved aside)
    ignored: int = 0  # not reports: left in the mailbox for a person
    unreadable: list[str] = field(default_factory=list)  # keys that could not be parsed (left)
    bounced_addresses: set[str] = field(default_factory=set)
    delayed_addresses: set[str] = field(default_factory=set)
    changes: ReportChanges = field(default_factory=ReportChanges)

    @property
    def updated_messages(self) -> int:
        return self.changes.messages

    @property
    def updated_registrations(self) -> int:
        return self.changes.registrations

    @property
    def updated_contacts(self) -> int:
        return self.changes.contacts


def address_variants(address: str) -> set[str]:
    """The spellings one mailbox may be stored under: as reported, lower-cased, normalized (the
    domain in Unicode, as registrations keep it) and with the domain as A-labels (as sent)."""
    raw = address.strip().strip("<>")
    variants = {raw, raw.lower()}
    # ValueError: not a valid address by today's rules; the literal spellings still match.
    with contextlib.suppress(ValueError):
        variants.add(normalize(raw))
    local, at, domain = raw.rpartition("@")
    if at and not domain.isascii():
        with contextlib.suppress(idna.IDNAError):
            variants.add(f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}".lower())
    return variants


def _message_id_variants(message_id: str) -> set[str]:
    bare = message_id.strip().strip("<>")
    return {bare, f"<{bare}>"}


def _outbox_targets(
    session: Session, report: DeliveryReport, failure: Failure, variants: set[str]
) -> Sequence[Message]:
    if report.original_message_id:
        # One outbox row is one recipient, so the quoted Message-ID names the row exactly.
        by_id = session.scalars(
            select(Message)
            .where(Message.message_id.in_(_message_id_variants(report.original_message_id)))
            .order_by(Message.id)
        ).all()
        if by_id:
            return by_id
    return session.scalars(
        select(Message)
        .where(Message.to_address.in_(variants), Message.status == MessageStatus.SENT)
        .order_by(Message.id)
    ).all()


def apply_report(session: Session, clock: Clock, report: DeliveryReport) -> ReportChanges:
    """Apply one delivery report in the caller's transaction; returns what changed."""
    changes = ReportChanges()
    for failure in report.failures:
        if failure.permanent:
            changes.add(_apply_permanent(session, clock, report, failure))
        else:
            changes.add(_apply_temporary(session, clock, report, failure))
    session.flush()
    return changes


def _details(report: DeliveryReport, failure: Failure) -> dict[str, str | None]:
    return {
        "address": failure.address,
        "smtp_status": failure.status,
        "reason": failure.reason,
        "report_message_id": report.report_message_id,
    }


def _apply_permanent(
    session: Session, clock: Clock, report: DeliveryReport, failure: Failure
) -> ReportChanges:
    now = clock.now()
    changes = ReportChanges()
    variants = address_variants(failure.address)
    messages = _outbox_targets(session, report, failure, variants)
    # A report matched by Message-ID speaks for the address we actually sent to, which may differ
    # from the one the remote server reports (forwarding, aliases).
    for message in messages:
        variants |= address_variants(message.to_address)
        if message.status != MessageStatus.SENT:
            continue  # already bounced, or never accepted by the relay
        message.status = MessageStatus.BOUNCED
        message.bounced_at = now
        message.last_error = f"bounced: {failure.reason}"
        audit.record(
            session,
            clock,
            actor=ACTOR,
            action="message.bounced",
            entity_type="message",
            entity_id=message.id,
            organization_id=message.organization_id,
            **_details(report, failure),
        )
        changes.messages += 1

    for registration in _registrations(session, variants):
        registration.bounce_reason = failure.reason
        set_status(
            session,
            clock,
            registration,
            RegistrationStatus.BOUNCED,
            ACTOR,
            **_details(report, failure),
        )
        changes.registrations += 1

    for contact in _contacts(session, variants):
        contact.email_bounced_at = now
        audit.record(
            session,
            clock,
            actor=ACTOR,
            action="contact.email_bounced",
            entity_type="organization_contact",
            entity_id=contact.id,
            organization_id=contact.organization_id,
            **_details(report, failure),
        )
        changes.contacts += 1
    return changes


def _apply_temporary(
    session: Session, clock: Clock, report: DeliveryReport, failure: Failure
) -> ReportChanges:
    changes = ReportChanges()
    note = f"delivery delayed: {failure.reason}"
    for message in _outbox_targets(session, report, failure, address_variants(failure.address)):
        if message.status != MessageStatus.SENT or message.last_error == note:
            continue
        message.last_error = note
        audit.record(
            session,
            clock,
            actor=ACTOR,
            action="message.delivery_delayed",
            entity_type="message",
            entity_id=message.id,
            organization_id=message.organization_id,
            **_details(report, failure),
        )
        changes.notes += 1
    return changes


def _registrations(session: Session, variants: Iterable[str]) -> Sequence[Registration]:
    return session.scalars(
        select(Registration)
        .where(
            Registration.email.in_(set(variants)),
            Registration.status.in_(BOUNCEABLE_REGISTRATIONS),
        )
        .order_by(Registration.id)
    ).all()


def _contacts(session: Session, variants: Iterable[str]) -> Sequence[OrganizationContact]:
    return session.scalars(
        select(OrganizationContact)
        .where(
            OrganizationContact.email.in_(set(variants)),
            OrganizationContact.email_bounced_at.is_(None),
        )
        .order_by(OrganizationContact.id)
    ).all()


def read_report(raw: bytes) -> DeliveryReport | None:
    """The delivery report in a raw message, or None when it is not a bounce."""
    return parse_report(email.message_from_bytes(raw, policy=email.policy.default))


def process_mailbox(app: App, mailbox: BounceMailbox, *, dry_run: bool = False) -> BounceSummary:
    """Apply every report waiting in `mailbox`, one transaction per report.

    This driver owns its transactions because the mailbox is not in the database: a report is
    moved aside only after its changes are committed, so a crash in between means the report is
    read again next time, which `apply_report` makes harmless. With `dry_run` the changes are
    computed and rolled back, and the mailbox is left as it was.
    """
    summary = BounceSummary()
    for item in mailbox.pending():
        summary.read += 1
        try:
            report = read_report(item.raw)
        except Exception:
            # One malformed message must not stop every later run at the same place; it stays
            # in the mailbox, named in the summary and the log, for a person to look at.
            log.exception("cannot read message %s in %s", item.key, mailbox.location)
            summary.unreadable.append(item.key)
            continue
        if report is None:
            summary.ignored += 1
            continue
        summary.reports += 1
        summary.bounced_addresses.update(f.address.lower() for f in report.permanent)
        summary.delayed_addresses.update(f.address.lower() for f in report.temporary)
        with app.sessions() as session:
            summary.changes.add(apply_report(session, app.clock, report))
            if dry_run:
                session.rollback()
            else:
                session.commit()
        if not dry_run:
            mailbox.mark_processed(item.key)
    return summary
