"""The Helpdesk page: contacts per day, the open backlog by age, response and resolution times,
and the list agents work from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from db.dashboard.common import Spread, as_date, local_day, seconds_between, spread
from db.enums import HelpdeskCategory, HelpdeskChannel, HelpdeskStatus
from db.models import HelpdeskContact, Organization
from db.types import UTCDateTime

OPEN_STATUSES = (HelpdeskStatus.NEW, HelpdeskStatus.OPEN, HelpdeskStatus.WAITING_ON_CUSTOMER)
LIST_LIMIT = 300
# (label, younger than): the last bucket takes everything older.
AGE_BUCKETS: tuple[tuple[str, dt.timedelta | None], ...] = (
    ("< 1 day", dt.timedelta(days=1)),
    ("1–2 days", dt.timedelta(days=2)),
    ("2–5 days", dt.timedelta(days=5)),
    ("5–10 days", dt.timedelta(days=10)),
    ("> 10 days", None),
)


@dataclass(frozen=True)
class DailyCount:
    day: dt.date
    value: str  # the channel or the category
    contacts: int


@dataclass(frozen=True)
class ContactsPerDay:
    """Requests received per Tokyo day, by channel and by category (each as charted)."""

    by_channel: list[DailyCount]
    by_category: list[DailyCount]

    @property
    def total(self) -> int:
        return sum(d.contacts for d in self.by_channel)


@dataclass(frozen=True)
class Backlog:
    by_age: tuple[tuple[str, int], ...]  # AGE_BUCKETS order
    by_status: tuple[tuple[str, int], ...]  # OPEN_STATUSES order
    oldest_received_at: dt.datetime | None

    @property
    def total(self) -> int:
        return sum(n for _, n in self.by_age)


@dataclass(frozen=True)
class ResponseTimes:
    first_response: Spread
    resolution: Spread


@dataclass(frozen=True)
class ContactFilter:
    statuses: tuple[HelpdeskStatus, ...] = ()
    categories: tuple[HelpdeskCategory, ...] = ()
    channels: tuple[HelpdeskChannel, ...] = ()
    search: str = ""


# A reply threaded to an earlier contact is part of that request, not a request of its own.
IS_REQUEST = HelpdeskContact.thread_of_id.is_(None)


def per_day(session: Session, tz: ZoneInfo) -> ContactsPerDay:
    day = local_day(session, HelpdeskContact.received_at, tz).label("day")

    def by(column: Any) -> list[DailyCount]:
        rows = session.execute(
            select(day, column, func.count())
            .where(IS_REQUEST)
            .group_by(day, column)
            .order_by(day, column)
        ).all()
        return [DailyCount(as_date(d), value.value, int(n)) for d, value, n in rows]

    return ContactsPerDay(by(HelpdeskContact.channel), by(HelpdeskContact.category))


def _at(moment: dt.datetime) -> ColumnElement[dt.datetime]:
    return literal(moment, UTCDateTime())


def backlog(session: Session, now: dt.datetime) -> Backlog:
    whens = [
        (HelpdeskContact.received_at > _at(now - younger_than), literal(label))
        for label, younger_than in AGE_BUCKETS
        if younger_than is not None
    ]
    bucket = case(*whens, else_=literal(AGE_BUCKETS[-1][0])).label("bucket")
    is_open = and_(HelpdeskContact.status.in_(OPEN_STATUSES), IS_REQUEST)
    by_age: dict[str, int] = dict(
        session.execute(select(bucket, func.count()).where(is_open).group_by(bucket)).all()
    )
    by_status = dict(
        session.execute(
            select(HelpdeskContact.status, func.count())
            .where(is_open)
            .group_by(HelpdeskContact.status)
        ).all()
    )
    oldest = session.scalar(select(func.min(HelpdeskContact.received_at)).where(is_open))
    return Backlog(
        by_age=tuple((label, int(by_age.get(label, 0))) for label, _ in AGE_BUCKETS),
        by_status=tuple((s.value, int(by_status.get(s, 0))) for s in OPEN_STATUSES),
        oldest_received_at=oldest,
    )


def response_times(session: Session) -> ResponseTimes:
    received = HelpdeskContact.received_at
    return ResponseTimes(
        first_response=spread(
            session,
            select(seconds_between(session, received, HelpdeskContact.first_response_at)).where(
                HelpdeskContact.first_response_at.is_not(None), IS_REQUEST
            ),
        ),
        resolution=spread(
            session,
            select(seconds_between(session, received, HelpdeskContact.resolved_at)).where(
                HelpdeskContact.resolved_at.is_not(None), IS_REQUEST
            ),
        ),
    )


def list_contacts(
    session: Session, flt: ContactFilter, *, limit: int = LIST_LIMIT
) -> tuple[list[dict[str, Any]], int]:
    """The newest matching contacts (at most `limit`) and how many match in all."""
    conditions: list[ColumnElement[bool]] = []
    if flt.statuses:
        conditions.append(HelpdeskContact.status.in_(flt.statuses))
    if flt.categories:
        conditions.append(HelpdeskContact.category.in_(flt.categories))
    if flt.channels:
        conditions.append(HelpdeskContact.channel.in_(flt.channels))
    text = " ".join(flt.search.split()).casefold()
    if text:
        conditions.append(
            or_(
                *(
                    func.lower(column).contains(text, autoescape=True)
                    for column in (
                        HelpdeskContact.sender_email,
                        HelpdeskContact.sender_name,
                        HelpdeskContact.subject,
                        HelpdeskContact.organization_name_given,
                        Organization.name,
                        Organization.name_local,
                        Organization.legacy_login_id,
                    )
                )
            )
        )
    base = select(HelpdeskContact.id).outerjoin(
        Organization, Organization.id == HelpdeskContact.organization_id
    )
    total = int(
        session.scalar(select(func.count()).select_from(base.where(*conditions).subquery())) or 0
    )
    rows = session.execute(
        select(
            HelpdeskContact.id.label("id"),
            HelpdeskContact.received_at.label("received_at"),
            HelpdeskContact.channel.label("channel"),
            HelpdeskContact.category.label("category"),
            HelpdeskContact.status.label("status"),
            HelpdeskContact.sender_name.label("sender_name"),
            HelpdeskContact.sender_email.label("sender_email"),
            func.coalesce(
                Organization.name_local, Organization.name, HelpdeskContact.organization_name_given
            ).label("organization"),
            Organization.legacy_login_id.label("login_id"),
            HelpdeskContact.subject.label("subject"),
            HelpdeskContact.assignee.label("assignee"),
            HelpdeskContact.first_response_at.label("first_response_at"),
            HelpdeskContact.resolved_at.label("resolved_at"),
        )
        .outerjoin(Organization, Organization.id == HelpdeskContact.organization_id)
        .where(*conditions)
        .order_by(HelpdeskContact.received_at.desc(), HelpdeskContact.id.desc())
        .limit(limit)
    ).mappings()
    return [
        {key: getattr(value, "value", value) for key, value in row.items()} for row in rows
    ], total


def contact_detail(session: Session, contact_id: int) -> dict[str, Any] | None:
    contact = session.get(HelpdeskContact, contact_id)
    if contact is None:
        return None
    return {
        "id": contact.id,
        "received_at": contact.received_at,
        "channel": contact.channel.value,
        "category": contact.category.value,
        "status": contact.status.value,
        "sender_name": contact.sender_name,
        "sender_email": contact.sender_email,
        "organization_name_given": contact.organization_name_given,
        "organization_id": contact.organization_id,
        "subject": contact.subject,
        "body": contact.body,
        "assignee": contact.assignee,
        "notes": contact.notes,
        "first_response_at": contact.first_response_at,
        "resolved_at": contact.resolved_at,
    }
