"""One incoming email becomes one helpdesk contact: deduplicated, threaded, matched, categorized.

* Deduplicated by Message-ID: reading the mailbox again (after a crash, from a second source, a
  copy in two folders) adds nothing.
* Threaded: a reply becomes a contact of its own (its text and time are part of the story) with
  ``thread_of_id`` pointing at the first contact of the conversation. The conversation is found
  by In-Reply-To/References (a contact's Message-ID, or the Message-ID of the acknowledgement we
  sent for it), by a reference number such as HD-2025-004127 quoted in the subject or text, and
  last by the subject: the same sender writing "Re: <same subject>" within `THREAD_WINDOW`.
  A customer answering a contact that waited on them, or was resolved, reopens it.
* Matched to an organization by the sender's address (``domain.helpdesk.match_organization``:
  registrations, contacts on file, known domains; and here also individual accounts, whose
  memberships say the organization after the switch). A reply that cannot be matched on its own
  belongs to its conversation's organization.
* Categorized by `categories.categorize`; a reply with no recognizable words keeps the category
  of its conversation.

Nothing here commits; the caller's transaction holds the contact, its audit events and its
acknowledgement email together.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.enums import (
    HelpdeskCategory,
    HelpdeskChannel,
    HelpdeskStatus,
    Locale,
    MembershipStatus,
)
from db.inserts import insert_ignoring
from db.models import HelpdeskContact, Membership, Message, Person
from domain import audit, helpdesk
from domain.addresses import InvalidAddress, parse
from domain.clock import Clock
from domain.helpdesk_ingest.categories import categorize
from domain.helpdesk_ingest.parsing import IncomingMail, base_subject
from domain.settings import Settings

THREAD_WINDOW = dt.timedelta(days=90)
ACTOR = "system:helpdesk-ingest"
ACK_KEY_PREFIX = "helpdesk_acknowledgement:helpdesk_contact:"
_REFERENCE = re.compile(r"\bHD-(\d{4})-(\d{4,9})\b")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
REOPENED_BY_REPLY = (
    HelpdeskStatus.WAITING_ON_CUSTOMER,
    HelpdeskStatus.RESOLVED,
    HelpdeskStatus.CLOSED,
)


@dataclass(frozen=True)
class Recorded:
    kind: str  # "new" | "reply" | "duplicate" | "own" (our own outgoing mail, skipped)
    contact_id: int | None = None
    thread_of_id: int | None = None
    thread_by: str | None = None  # references | acknowledgement | reference_number | subject
    match: str | None = None  # how the organization was found (see domain.helpdesk.Match)
    category: HelpdeskCategory | None = None
    acknowledged: bool = False
    reopened: bool = False


def looks_japanese(*texts: str | None) -> bool:
    return any(text and _JAPANESE.search(text) for text in texts)


def _by_message_id(session: Session, message_id: str) -> int | None:
    return session.scalar(
        select(HelpdeskContact.id).where(HelpdeskContact.message_id == message_id)
    )


def find_thread(
    session: Session, clock: Clock, mail: IncomingMail, sender: str | None
) -> tuple[HelpdeskContact | None, str | None]:
    """The first contact of the conversation this mail continues, and how it was found."""
    refs = mail.thread_ids
    if refs:
        rows = session.execute(
            select(
                HelpdeskContact.id, HelpdeskContact.message_id, HelpdeskContact.thread_of_id
            ).where(HelpdeskContact.message_id.in_(refs))
        ).all()
        if rows:
            nearest = min(rows, key=lambda row: refs.index(row.message_id))
            return session.get(HelpdeskContact, nearest.thread_of_id or nearest.id), "references"
        keys = session.scalars(
            select(Message.idempotency_key).where(
                Message.message_id.in_(refs), Message.idempotency_key.startswith(ACK_KEY_PREFIX)
            )
        ).all()
        for key in keys:
            root = _root(session, int(key.removeprefix(ACK_KEY_PREFIX)))
            if root is not None:
                return root, "acknowledgement"
    for found in _REFERENCE.finditer(f"{mail.subject or ''}\n{mail.text}"):
        contact = session.get(HelpdeskContact, int(found[2]))
        if contact is not None and contact.received_at.year in (
            int(found[1]),
            int(found[1]) - 1,  # the year is local (Tokyo); received_at is UTC
        ):
            root = _root(session, contact.id)
            if root is not None:
                return root, "reference_number"
    if sender and mail.looks_like_reply:
        wanted = base_subject(mail.subject)
        candidates = session.scalars(
            select(HelpdeskContact)
            .where(
                HelpdeskContact.sender_email == sender,
                HelpdeskContact.thread_of_id.is_(None),
                HelpdeskContact.received_at >= clock.now() - THREAD_WINDOW,
            )
            .order_by(HelpdeskContact.received_at.desc(), HelpdeskContact.id.desc())
        ).all()
        for candidate in candidates:
            if wanted and base_subject(candidate.subject) == wanted:
                return candidate, "subject"
    return None, None


def _root(session: Session, contact_id: int) -> HelpdeskContact | None:
    contact = session.get(HelpdeskContact, contact_id)
    if contact is None or contact.thread_of_id is None:
        return contact
    return session.get(HelpdeskContact, contact.thread_of_id)


def match_sender(session: Session, sender: str | None) -> helpdesk.Match:
    """`domain.helpdesk.match_organization`, with individual accounts after registrations."""
    found = helpdesk.match_organization(session, sender, None)
    if found.reason == "registration" or sender is None:
        return found
    organizations = set(
        session.scalars(
            select(Membership.organization_id)
            .join(Person, Person.id == Membership.person_id)
            .where(Person.email == sender, Membership.status == MembershipStatus.ACTIVE)
        )
    )
    if len(organizations) == 1:
        return helpdesk.Match(next(iter(organizations)), "person")
    if len(organizations) > 1 and found.organization_id is None:
        return helpdesk.Match(None, "ambiguous")
    return found


def _sender_address(mail: IncomingMail) -> tuple[str | None, str | None]:
    """(normalized address, or None; a note when the address as written is not usable)."""
    if not mail.from_address:
        return None, "The message has no sender address."
    try:
        return parse(mail.from_address).normalized, None
    except InvalidAddress as exc:
        return None, f"Sender address {mail.from_address!r} is not usable: {exc}"


def _body(mail: IncomingMail) -> str:
    text = mail.text.strip() or "(The message has no text.)"
    if mail.attachments:
        text += "\n\n[Attachments, in the mailbox: " + ", ".join(mail.attachments) + "]"
    return text


def _received_at(clock: Clock, mail: IncomingMail, delivered_at: dt.datetime | None) -> dt.datetime:
    now = clock.now()
    for moment in (delivered_at, mail.date):
        if moment is not None and moment.tzinfo is not None and moment <= now:
            return moment.astimezone(dt.UTC)
    return now


def insert_contact(session: Session, **values: Any) -> HelpdeskContact | None:
    """Insert one contact unless its Message-ID is stored already (then None).

    ON CONFLICT DO NOTHING rather than a savepoint (see `db.inserts`): a dry run must never
    commit.
    """
    statement = (
        insert_ignoring(session, HelpdeskContact, "message_id")
        .values(**values)
        .returning(HelpdeskContact.id)
    )
    new_id = session.execute(statement).scalar_one_or_none()
    return None if new_id is None else session.get(HelpdeskContact, new_id)


def record_mail(
    session: Session,
    clock: Clock,
    settings: Settings,
    mail: IncomingMail,
    *,
    delivered_at: dt.datetime | None = None,
    acknowledge: bool = True,
) -> Recorded:
    """Store one message as a helpdesk contact (or recognize it as already stored)."""
    if _by_message_id(session, mail.message_id) is not None:
        return Recorded("duplicate")
    sender, problem = _sender_address(mail)
    if sender is not None and sender == str(settings.mail_from).lower():
        return Recorded("own")
    root, thread_by = find_thread(session, clock, mail, sender)
    match = match_sender(session, sender)
    organization_id = match.organization_id
    if organization_id is None and root is not None and root.organization_id is not None:
        organization_id, match = (
            root.organization_id,
            helpdesk.Match(root.organization_id, "thread"),
        )
    guess = categorize(mail.subject, mail.text)
    category = guess.category
    if root is not None and not guess.guessed:
        category = root.category
    notes = [problem] if problem else []
    if mail.auto_generated:
        notes.append("Automatic message (auto-reply, delivery report or list mail).")
    contact = insert_contact(
        session,
        channel=HelpdeskChannel.MAILBOX,
        received_at=_received_at(clock, mail, delivered_at),
        sender_name=(mail.from_name or "")[:200] or None,
        sender_email=sender,
        organization_name_given=None,
        organization_id=organization_id,
        category=category,
        # An automatic message is kept (nothing is lost) but is no request to answer.
        status=HelpdeskStatus.CLOSED if mail.auto_generated else HelpdeskStatus.NEW,
        subject=mail.subject,
        body=_body(mail),
        message_id=mail.message_id,
        thread_of_id=root.id if root is not None else None,
        notes="\n".join(notes) or None,
    )
    if contact is None:
        # Another reader stored the same Message-ID between our look and our insert.
        return Recorded("duplicate")
    audit.record(
        session,
        clock,
        actor=ACTOR,
        action="helpdesk.mail_received",
        entity_type="helpdesk_contact",
        entity_id=contact.id,
        organization_id=organization_id,
        channel=HelpdeskChannel.MAILBOX.value,
        category=category.value,
        category_rule=guess.rule,
        match=match.reason,
        thread_of_id=contact.thread_of_id,
        thread_by=thread_by,
    )
    reopened = root is not None and not mail.auto_generated and _reopen(session, clock, root)
    acknowledged = False
    if (
        acknowledge
        and root is None
        and sender is not None
        and not mail.auto_generated
        and sender != str(settings.helpdesk_email).lower()
    ):
        japanese = looks_japanese(mail.subject, mail.text)
        helpdesk.acknowledge(
            session, clock, settings, contact, locale=Locale.JA if japanese else Locale.EN
        )
        acknowledged = True
    return Recorded(
        "reply" if root is not None else "new",
        contact_id=contact.id,
        thread_of_id=contact.thread_of_id,
        thread_by=thread_by,
        match=match.reason,
        category=category,
        acknowledged=acknowledged,
        reopened=reopened,
    )


def _reopen(session: Session, clock: Clock, root: HelpdeskContact) -> bool:
    """The customer wrote again: a conversation waiting on them, or finished, is open again."""
    if root.status not in REOPENED_BY_REPLY:
        return False
    before = root.status
    root.status = HelpdeskStatus.OPEN
    root.resolved_at = None
    audit.record(
        session,
        clock,
        actor=ACTOR,
        action="helpdesk.status_changed",
        entity_type="helpdesk_contact",
        entity_id=root.id,
        organization_id=root.organization_id,
        before=before.value,
        after=HelpdeskStatus.OPEN.value,
        reason="customer replied",
    )
    return True
