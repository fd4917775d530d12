"""The support mailbox into helpdesk contacts: once each, threaded, matched, acknowledged."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.enums import (
    ContactKind,
    HelpdeskCategory,
    HelpdeskChannel,
    HelpdeskStatus,
    MembershipStatus,
    Role,
)
from db.models import (
    AuditEvent,
    HelpdeskContact,
    Membership,
    Message,
    OrganizationContact,
    Person,
)
from domain.context import App
from domain.helpdesk import reference
from domain.helpdesk_ingest.mailboxes import MailboxError, MaildirMailbox
from domain.helpdesk_ingest.run import ingest_mailbox
from tests import factories
from tests.helpdesk_ingest.conftest import deliver, email_bytes


def contacts(session: Session) -> list[HelpdeskContact]:
    session.expire_all()
    return list(session.scalars(select(HelpdeskContact).order_by(HelpdeskContact.id)))


def acknowledgements(session: Session) -> list[Message]:
    return list(
        session.scalars(select(Message).where(Message.template == "helpdesk_acknowledgement"))
    )


def test_a_request_becomes_one_matched_contact_and_reading_again_adds_nothing(
    app: App, session: Session, maildir: Path
) -> None:
    org = factories.organization(session, app.clock, domains=("owner.example",))
    session.commit()
    deliver(maildir, email_bytes(subject="Email not received", text="Nothing arrived."))

    first = ingest_mailbox(app, MaildirMailbox(maildir))
    assert (first.read, first.new_contacts, first.duplicates, first.acknowledged) == (
        1,
        0 + 1,
        0,
        1,
    )
    [contact] = contacts(session)
    assert contact.channel is HelpdeskChannel.MAILBOX
    assert contact.organization_id == org.id
    assert contact.category is HelpdeskCategory.EMAIL_NOT_RECEIVED
    assert contact.status is HelpdeskStatus.NEW
    assert (contact.sender_name, contact.sender_email) == ("Taro Yamada", "taro@owner.example")
    assert contact.message_id == "<q1@owner.example>"
    # The message's own time, not the time it was read (the Maildir name carries delivery time,
    # which is "now" for the test's real clock — later than the injected one, so ignored).
    assert contact.received_at == dt.datetime(2025, 7, 1, 0, 0, tzinfo=dt.UTC)
    [ack] = acknowledgements(session)
    assert ack.to_address == "taro@owner.example"
    assert reference(contact, app.calendar) in ack.subject
    audit = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "helpdesk.mail_received")
    ).one()
    assert audit.details is not None and audit.details["match"] == "domain"

    again = ingest_mailbox(app, MaildirMailbox(maildir))
    assert (again.read, again.new_contacts, again.duplicates) == (1, 0, 1)
    assert len(contacts(session)) == 1
    assert len(acknowledgements(session)) == 1


def test_a_dry_run_stores_nothing(app: App, session: Session, maildir: Path) -> None:
    deliver(maildir, email_bytes())
    summary = ingest_mailbox(app, MaildirMailbox(maildir), dry_run=True)
    assert (summary.read, summary.new_contacts, summary.acknowledged) == (1, 1, 1)
    assert contacts(session) == []
    assert acknowledgements(session) == []


def test_replies_are_threaded_by_references_acknowledgement_reference_and_subject(
    app: App, session: Session, maildir: Path
) -> None:
    deliver(maildir, email_bytes(subject="Cannot log in", text="I cannot log in."))
    ingest_mailbox(app, MaildirMailbox(maildir))
    [root] = contacts(session)
    [ack] = acknowledgements(session)
    ack.message_id = "<ack-1@portal.example.com>"  # what the sender records when it sends
    root.status = HelpdeskStatus.WAITING_ON_CUSTOMER
    session.commit()

    replies = [
        # 1. In-Reply-To the customer's own first message (a follow-up to their own mail).
        email_bytes(
            subject="Cannot log in",
            text="Any news?",
            message_id="<r1@owner.example>",
            in_reply_to="<q1@owner.example>",
        ),
        # 2. A reply to our acknowledgement.
        email_bytes(
            subject="Re: ack",
            text="Here is a screenshot.",
            message_id="<r2@o.example>",
            in_reply_to="<ack-1@portal.example.com>",
        ),
        # 3. A new mail quoting the reference number.
        email_bytes(
            subject=f"About {reference(root, app.calendar)}",
            text="Still broken.",
            message_id="<r3@owner.example>",
        ),
        # 4. Only the subject tells (a mail client that drops the headers).
        email_bytes(
            subject="RE: cannot log in", text="Hello again.", message_id="<r4@owner.example>"
        ),
        # 5. A reply to reply 1: threaded to the first contact, not to the reply.
        email_bytes(
            subject="Re: Cannot log in",
            text="?",
            message_id="<r5@owner.example>",
            references="<q1@owner.example> <r1@owner.example>",
        ),
    ]
    for raw in replies:
        deliver(maildir, raw)
    summary = ingest_mailbox(app, MaildirMailbox(maildir))
    assert (summary.new_contacts, summary.replies, summary.duplicates) == (0, 5, 1)
    assert dict(summary.threaded_by) == {
        "references": 2,
        "acknowledgement": 1,
        "reference_number": 1,
        "subject": 1,
    }
    stored = contacts(session)
    assert [c.thread_of_id for c in stored] == [None] + [root.id] * 5
    # Replies without words of their own keep the conversation's category.
    assert {c.category for c in stored} == {HelpdeskCategory.CANNOT_LOG_IN}
    assert stored[0].status is HelpdeskStatus.OPEN  # the customer answered: open again
    assert summary.reopened == 1
    assert summary.acknowledged == 0  # replies are not acknowledged
    assert len(acknowledgements(session)) == 1


def test_a_new_subject_from_the_same_sender_is_a_new_request(
    app: App, session: Session, maildir: Path
) -> None:
    deliver(maildir, email_bytes(subject="Cannot log in"))
    deliver(maildir, email_bytes(subject="Re: Add a user", message_id="<other@owner.example>"))
    summary = ingest_mailbox(app, MaildirMailbox(maildir))
    assert (summary.new_contacts, summary.replies) == (2, 0)


def test_matching_by_registration_person_and_contact_on_file(
    app: App, session: Session, maildir: Path
) -> None:
    registered = factories.organization(session, app.clock, domains=())
    factories.registration(session, app.clock, app.calendar, registered, "ann@shared.example")
    on_file = factories.organization(session, app.clock, domains=())
    session.add(
        OrganizationContact(
            organization_id=on_file.id, kind=ContactKind.PRIMARY, email="ops@file.example"
        )
    )
    member_of = factories.organization(session, app.clock, domains=())
    person = Person(email="kim@person.example", display_name="Kim", created_at=app.clock.now())
    session.add(person)
    session.flush()
    session.add(
        Membership(
            person_id=person.id,
            organization_id=member_of.id,
            role=Role.NORMAL,
            status=MembershipStatus.ACTIVE,
            created_at=app.clock.now(),
        )
    )
    session.commit()
    for number, sender in enumerate(
        ("ann@shared.example", "Ops <OPS@file.example>", "kim@person.example", "x@gmail.com")
    ):
        deliver(maildir, email_bytes(sender=sender, message_id=f"<m{number}@x>"))
    summary = ingest_mailbox(app, MaildirMailbox(maildir))
    assert dict(summary.matches) == {"registration": 1, "contact": 1, "person": 1, "none": 1}
    by_sender = {c.sender_email: c.organization_id for c in contacts(session)}
    assert by_sender == {
        "ann@shared.example": registered.id,
        "ops@file.example": on_file.id,
        "kim@person.example": member_of.id,
        "x@gmail.com": None,
    }


def test_automatic_and_own_messages(app: App, session: Session, maildir: Path) -> None:
    deliver(
        maildir,
        email_bytes(subject="Out of office", headers={"Auto-Submitted": "auto-replied"}),
    )
    deliver(
        maildir,
        email_bytes(sender=str(app.settings.mail_from), message_id="<own@portal.example.com>"),
    )
    summary = ingest_mailbox(app, MaildirMailbox(maildir))
    assert (summary.new_contacts, summary.own_messages, summary.acknowledged) == (1, 1, 0)
    [auto] = contacts(session)
    assert auto.status is HelpdeskStatus.CLOSED
    assert auto.notes and "Automatic message" in auto.notes


def test_a_sender_that_is_no_address_is_kept_with_a_note(
    app: App, session: Session, maildir: Path
) -> None:
    deliver(maildir, email_bytes(sender="Broken <not an address>"))
    summary = ingest_mailbox(app, MaildirMailbox(maildir))
    assert (summary.new_contacts, summary.acknowledged) == (1, 0)
    [contact] = contacts(session)
    assert contact.sender_email is None
    assert contact.notes and "not usable" in contact.notes


def test_japanese_requests_are_acknowledged_in_japanese(
    app: App, session: Session, maildir: Path
) -> None:
    deliver(
        maildir,
        email_bytes(subject="ログインできません", text="助けてください", charset="iso-2022-jp"),
    )
    ingest_mailbox(app, MaildirMailbox(maildir))
    [ack] = acknowledgements(session)
    assert ack.locale.value == "ja"
    [contact] = contacts(session)
    assert contact.category is HelpdeskCategory.CANNOT_LOG_IN


def test_batches_commit_separately(app: App, session: Session, maildir: Path) -> None:
    for number in range(5):
        deliver(maildir, email_bytes(message_id=f"<b{number}@x>", subject=f"Q{number}"))
    summary = ingest_mailbox(app, MaildirMailbox(maildir), batch_size=2, limit=3)
    assert summary.new_contacts == 3
    rest = ingest_mailbox(app, MaildirMailbox(maildir), batch_size=2)
    assert (rest.new_contacts, rest.duplicates) == (2, 3)
    assert session.scalar(select(func.count()).select_from(HelpdeskContact)) == 5


def test_a_folder_that_is_not_a_maildir_is_refused(tmp_path: Path) -> None:
    try:
        MaildirMailbox(tmp_path)
    except MailboxError as exc:
        assert "is not a Maildir" in str(exc)
    else:
        raise AssertionError("expected MailboxError")
