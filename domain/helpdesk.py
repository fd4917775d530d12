"""Helpdesk requests: record one, find the organization it is about, acknowledge it by email.

People rarely say which organization they belong to, and when they do they spell it their own
way. The address they write from usually tells: it was registered by an organization, it is on
file as a contact, or its domain is one an organization owns. A match is only made when it is
unambiguous; a wrong match would send an agent to the wrong customer, no match only costs a look.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from db.enums import HelpdeskCategory, HelpdeskChannel, HelpdeskStatus, Locale
from db.models import (
    HelpdeskContact,
    Organization,
    OrganizationContact,
    OrganizationDomain,
    Registration,
)
from domain import audit
from domain.addresses import FREE_MAIL_DOMAINS, InvalidAddress, parse
from domain.clock import Calendar, Clock
from domain.emails.outbox import enqueue
from domain.emails.render import render_email
from domain.registration import LIVE_STATUSES
from domain.settings import Settings

MAX_NAME_LENGTH = 200
MAX_ORGANIZATION_LENGTH = 300
MAX_MESSAGE_LENGTH = 10_000


@dataclass(frozen=True)
class Match:
    organization_id: int | None
    reason: str  # registration | contact | domain | name | ambiguous | none


def _single(ids: set[int], organization_name: str | None, session: Session) -> int | None:
    """One organization out of candidates; the name given may pick among several."""
    if len(ids) == 1:
        return next(iter(ids))
    if len(ids) > 1 and organization_name:
        named = _by_name(session, organization_name, among=ids)
        if len(named) == 1:
            return next(iter(named))
    return None


def _by_name(session: Session, name: str, among: set[int] | None = None) -> set[int]:
    wanted = " ".join(name.split()).casefold()
    if not wanted:
        return set()
    query = select(Organization.id).where(
        or_(func.lower(Organization.name) == wanted, func.lower(Organization.name_local) == wanted)
    )
    if among is not None:
        query = query.where(Organization.id.in_(among))
    return set(session.scalars(query))


def match_organization(
    session: Session, email: str | None, organization_name: str | None = None
) -> Match:
    """The organization a request is most likely about, by the strongest evidence available."""
    ambiguous = False
    if email:
        by_registration = set(
            session.scalars(
                select(Registration.organization_id).where(
                    Registration.email == email, Registration.status.in_(LIVE_STATUSES)
                )
            )
        )
        by_contact = set(
            session.scalars(
                select(OrganizationContact.organization_id).where(
                    OrganizationContact.email == email
                )
            )
        )
        domain = email.rpartition("@")[2]
        by_domain: set[int] = set()
        if domain and domain not in FREE_MAIL_DOMAINS:
            by_domain = set(
                session.scalars(
                    select(OrganizationDomain.organization_id).where(
                        OrganizationDomain.domain == domain
                    )
                )
            )
        for reason, ids in (
            ("registration", by_registration),
            ("contact", by_contact),
            ("domain", by_domain),
        ):
            chosen = _single(ids, organization_name, session)
            if chosen is not None:
                return Match(chosen, reason)
            ambiguous = ambiguous or len(ids) > 1
    if organization_name:
        named = _by_name(session, organization_name)
        if len(named) == 1:
            return Match(next(iter(named)), "name")
        ambiguous = ambiguous or len(named) > 1
    return Match(None, "ambiguous" if ambiguous else "none")


class ContactError(ValueError):
    """The request cannot be recorded as given; `field` names the form field to fix."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _clean(value: str | None, limit: int) -> str | None:
    text = " ".join((value or "").split())
    return text[:limit] if text else None


def record_contact(
    session: Session,
    clock: Clock,
    *,
    name: str | None,
    email: str,
    organization_name: str | None,
    category: HelpdeskCategory | str,
    message: str,
    channel: HelpdeskChannel = HelpdeskChannel.FORM,
    subject: str | None = None,
    message_id: str | None = None,
) -> HelpdeskContact:
    """Store one request, matched to an organization where the evidence is unambiguous."""
    try:
        address = parse(email)
    except InvalidAddress as exc:
        raise ContactError(str(exc), "email") from None
    try:
        chosen = HelpdeskCategory(category)
    except ValueError:
        raise ContactError("Choose what your request is about.", "category") from None
    body = (message or "").strip()
    if not body:
        raise ContactError("Write your message.", "message")
    if len(body) > MAX_MESSAGE_LENGTH:
        raise ContactError(
            f"The message is too long (at most {MAX_MESSAGE_LENGTH} characters).", "message"
        )
    given_organization = _clean(organization_name, MAX_ORGANIZATION_LENGTH)
    match = match_organization(session, address.normalized, given_organization)
    contact = HelpdeskContact(
        channel=channel,
        received_at=clock.now(),
        sender_name=_clean(name, MAX_NAME_LENGTH),
        sender_email=address.normalized,
        organization_name_given=given_organization,
        organization_id=match.organization_id,
        category=chosen,
        status=HelpdeskStatus.NEW,
        subject=_clean(subject, 500),
        body=body,
        message_id=message_id,
    )
    session.add(contact)
    session.flush()
    audit.record(
        session,
        clock,
        actor=f"person:{address.normalized}",
        action="helpdesk.contact_received",
        entity_type="helpdesk_contact",
        entity_id=contact.id,
        organization_id=match.organization_id,
        channel=channel.value,
        category=chosen.value,
        match=match.reason,
    )
    return contact


def reference(contact: HelpdeskContact, calendar: Calendar) -> str:
    """The number people quote: HD-<year received, local>-<id>, e.g. HD-2025-004127."""
    return reference_of(contact.id, contact.received_at, calendar)


def reference_of(contact_id: int, received_at: dt.datetime, calendar: Calendar) -> str:
    """`reference` from the two values it is made of (for lists of contacts, not rows)."""
    return f"HD-{calendar.local(received_at).year}-{contact_id:06d}"


def acknowledge(
    session: Session,
    clock: Clock,
    settings: Settings,
    contact: HelpdeskContact,
    *,
    locale: Locale,
) -> str:
    """Queue the acknowledgement email (once per request); returns the reference number."""
    if contact.sender_email is None:
        raise ValueError(f"helpdesk contact {contact.id} has no address to acknowledge")
    ref = reference(contact, Calendar.from_settings(settings))
    context = {
        "reference": ref,
        "category": contact.category,
        "message": contact.body,
        "received_at": contact.received_at,
        "response_business_days": settings.helpdesk_response_business_days,
        "person_name": contact.sender_name,
        "message_subject": contact.subject,
    }
    template = "helpdesk_acknowledgement"
    enqueue(
        session,
        key=f"{template}:helpdesk_contact:{contact.id}",
        template=template,
        locale=locale,
        to_address=contact.sender_email,
        to_name=contact.sender_name,
        rendered=render_email(template, locale, context, settings),
        clock=clock,
        organization_id=contact.organization_id,
    )
    return ref
