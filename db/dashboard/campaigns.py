"""The Campaigns page: what each campaign step sent, how it fared, and what followed it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session, aliased

from db.dashboard.common import as_instant
from db.enums import MessageStatus
from db.models import Message, Registration

FOLLOW_DAYS = 7  # a registration within this many days of a step counts as following it


@dataclass(frozen=True)
class Delivery:
    """Messages of one step (or one template) by outbox status."""

    key: str
    template: str
    queued: int  # waiting, including those a sender is working on
    sent: int
    failed: int
    bounced: int
    organizations: int = 0  # distinct organizations written to (campaign steps)
    first_queued_at: dt.datetime | None = None  # when the step went out (campaign steps)

    @property
    def total(self) -> int:
        return self.queued + self.sent + self.failed + self.bounced

    @property
    def problem_share(self) -> float:
        done = self.sent + self.failed + self.bounced
        return (self.failed + self.bounced) / done if done else 0.0


@dataclass(frozen=True)
class StepOutcome:
    delivery: Delivery
    registrations_after: int  # registrations within FOLLOW_DAYS of the step, by its recipients
    organizations_after: int  # distinct organizations among them

    @property
    def response_share(self) -> float:
        reached = self.delivery.organizations
        return self.organizations_after / reached if reached else 0.0


def _status_counts() -> list[Any]:
    def count(*statuses: MessageStatus) -> Any:
        return func.coalesce(func.sum(case((Message.status.in_(statuses), 1), else_=0)), 0)

    return [
        count(MessageStatus.QUEUED, MessageStatus.SENDING),
        count(MessageStatus.SENT),
        count(MessageStatus.FAILED),
        count(MessageStatus.BOUNCED),
    ]


def campaign_steps(session: Session) -> list[StepOutcome]:
    """Every campaign step in the order it went out, with the registrations that followed.

    One pass over an index of the outbox (step, organization, queued at, status), never over
    its rows, which carry the rendered bodies; then each step's template, and what followed.
    """
    rows = session.execute(
        select(
            Message.campaign_step,
            func.min(Message.created_at),
            func.count(func.distinct(Message.organization_id)),
            *_status_counts(),
        )
        .where(Message.campaign_step.is_not(None))
        .group_by(Message.campaign_step)
    ).all()
    outcomes = []
    for step, started, organizations, queued, sent, failed, bounced in rows:
        template = session.scalar(
            select(Message.template).where(Message.campaign_step == step).limit(1)
        )
        delivery = Delivery(
            key=str(step),
            template=str(template),
            queued=int(queued),
            sent=int(sent),
            failed=int(failed),
            bounced=int(bounced),
            organizations=int(organizations),
            first_queued_at=as_instant(started),
        )
        first = delivery.first_queued_at
        followed = _followed(session, str(step), first) if first else (0, 0)
        outcomes.append(StepOutcome(delivery, *followed))
    never = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(
        outcomes,
        key=lambda o: (o.delivery.first_queued_at or never, o.delivery.key),
    )


def _followed(session: Session, step: str, started: dt.datetime) -> tuple[int, int]:
    """Registrations submitted within FOLLOW_DAYS of the step's start by organizations the step
    wrote to, and how many organizations those were.

    A step goes out in one run, so its first message stands for all of its messages; measuring
    from each organization's own message would probe the registrations once per message sent.
    """
    until = started + dt.timedelta(days=FOLLOW_DAYS)
    recipient = aliased(Message)
    found, organizations = session.execute(
        select(func.count(), func.count(func.distinct(Registration.organization_id))).where(
            Registration.submitted_at >= started,
            Registration.submitted_at < until,
            exists().where(
                recipient.campaign_step == step,
                recipient.organization_id == Registration.organization_id,
            ),
        )
    ).one()
    return int(found), int(organizations)


def transactional(session: Session) -> list[Delivery]:
    """Messages outside campaigns (verification links, confirmations...) by template."""
    rows = session.execute(
        select(Message.template, *_status_counts())
        .where(Message.campaign_step.is_(None))
        .group_by(Message.template)
    ).all()
    deliveries = [
        Delivery(
            key=str(template),
            template=str(template),
            queued=int(queued),
            sent=int(sent),
            failed=int(failed),
            bounced=int(bounced),
        )
        for template, queued, sent, failed, bounced in rows
    ]
    return sorted(deliveries, key=lambda d: (-d.total, d.template))
