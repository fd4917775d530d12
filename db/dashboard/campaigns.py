"""The Campaigns page: what each campaign step sent, how it fared, and what followed it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session, aliased

from db.dashboard.common import as_instant, plus_days
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

    Three passes, each over an index rather than the outbox itself (whose rows carry the
    rendered bodies): statuses by step, then each step's start and audience, then what followed.
    """
    statuses = {
        step: (str(template), [int(n) for n in counts])
        for step, template, *counts in session.execute(
            select(Message.campaign_step, func.max(Message.template), *_status_counts())
            .where(Message.campaign_step.is_not(None))
            .group_by(Message.campaign_step)
        )
    }
    audiences = session.execute(
        select(
            Message.campaign_step,
            func.min(Message.created_at),
            func.count(func.distinct(Message.organization_id)),
        )
        .where(Message.campaign_step.is_not(None))
        .group_by(Message.campaign_step)
    ).all()
    followed = _followed(session)
    outcomes = []
    for step, started, organizations in sorted(
        audiences,
        key=lambda row: (as_instant(row[1]) or dt.datetime.min.replace(tzinfo=dt.UTC), row[0]),
    ):
        template, (queued, sent, failed, bounced) = statuses[step]
        delivery = Delivery(
            key=str(step),
            template=template,
            queued=queued,
            sent=sent,
            failed=failed,
            bounced=bounced,
            organizations=int(organizations),
            first_queued_at=as_instant(started),
        )
        outcomes.append(StepOutcome(delivery, *followed.get(str(step), (0, 0))))
    return outcomes


def _followed(session: Session) -> dict[str, tuple[int, int]]:
    """Per step: registrations submitted within FOLLOW_DAYS of the step's start by organizations
    the step wrote to (and how many organizations those were).

    A step goes out in one run, so its first message stands for all of its messages; measuring
    from each organization's own message would probe the registrations once per message sent.
    """
    steps = (
        select(Message.campaign_step.label("step"), func.min(Message.created_at).label("started"))
        .where(Message.campaign_step.is_not(None))
        .group_by(Message.campaign_step)
        .subquery("steps")
    )
    recipient = aliased(Message)
    rows = session.execute(
        select(
            steps.c.step,
            func.count(Registration.id),
            func.count(func.distinct(Registration.organization_id)),
        )
        .select_from(steps)
        .join(
            Registration,
            and_(
                Registration.submitted_at >= steps.c.started,
                Registration.submitted_at < plus_days(session, steps.c.started, FOLLOW_DAYS),
            ),
        )
        .where(
            exists().where(
                recipient.campaign_step == steps.c.step,
                recipient.organization_id == Registration.organization_id,
            )
        )
        .group_by(steps.c.step)
    ).all()
    return {step: (int(n), int(orgs)) for step, n, orgs in rows}


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
