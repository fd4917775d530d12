"""Read queries shared by the dashboard, the CLI and the flows' summaries.

Aggregates are computed by the database in one round trip: the dashboard refreshes them often,
and loading rows to count them in Python would grow with the customer base.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from db.enums import MessageStatus, RegistrationStatus
from db.models import Message, OrganizationContact, Registration


@dataclass(frozen=True)
class BounceCounts:
    messages: int  # outbox messages that bounced
    registrations: int  # registrations stopped by a bounce
    addresses: int  # distinct addresses known to bounce (messages, registrations, contacts)


def bounce_counts(session: Session) -> BounceCounts:
    # lower(): the outbox keeps addresses as sent and registrations as normalized; one mailbox
    # must count once.
    bounced_addresses = union(
        select(func.lower(Message.to_address).label("address")).where(
            Message.status == MessageStatus.BOUNCED
        ),
        select(func.lower(Registration.email).label("address")).where(
            Registration.status == RegistrationStatus.BOUNCED
        ),
        select(func.lower(OrganizationContact.email).label("address")).where(
            OrganizationContact.email_bounced_at.is_not(None)
        ),
    ).subquery()
    messages = (
        select(func.count())
        .select_from(Message)
        .where(Message.status == MessageStatus.BOUNCED)
        .scalar_subquery()
    )
    registrations = (
        select(func.count())
        .select_from(Registration)
        .where(Registration.status == RegistrationStatus.BOUNCED)
        .scalar_subquery()
    )
    # UNION (not UNION ALL) already keeps each address once.
    addresses = select(func.count()).select_from(bounced_addresses)
    row = session.execute(select(messages, registrations, addresses.scalar_subquery())).one()
    return BounceCounts(messages=row[0], registrations=row[1], addresses=row[2])


@dataclass(frozen=True)
class OutboxCounts:
    by_status: dict[str, int]  # every MessageStatus value, zeros included
    due_now: int  # queued and due (or claimed by a sender whose lease ran out)
    oldest_due_at: dt.datetime | None  # how long the oldest due message has been waiting


def outbox_counts(session: Session, now: dt.datetime) -> OutboxCounts:
    by_status = dict.fromkeys((status.value for status in MessageStatus), 0)
    for status, count in session.execute(
        select(Message.status, func.count()).group_by(Message.status)
    ):
        by_status[MessageStatus(status).value] = int(count)
    due = ((Message.status == MessageStatus.QUEUED) & (Message.next_attempt_at <= now)) | (
        (Message.status == MessageStatus.SENDING) & (Message.claimed_until <= now)
    )
    due_now, oldest = session.execute(
        select(func.count(), func.min(Message.next_attempt_at)).where(due)
    ).one()
    return OutboxCounts(by_status=by_status, due_now=int(due_now), oldest_due_at=oldest)
