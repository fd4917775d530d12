"""The Campaigns page: what each campaign step sent, how it fared, and what followed it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import String, exists, func, literal, literal_column, select, union_all
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


_STATUS_FIELDS = {
    MessageStatus.QUEUED: "queued",
    MessageStatus.SENDING: "queued",  # a sender is working on it: still waiting to go out
    MessageStatus.SENT: "sent",
    MessageStatus.FAILED: "failed",
    MessageStatus.BOUNCED: "bounced",
}


def _deliveries(session: Session) -> dict[str | None, dict[str, dict[str, int]]]:
    """{campaign step (None: outside campaigns): {template: {queued, sent, failed, bounced}}}.

    One pass over the index (campaign_step, template, status) in its own order, counting rows
    only: the cheapest way to read the outbox whole, about what ``count(*)`` costs.
    """
    found: dict[str | None, dict[str, dict[str, int]]] = {}
    rows = session.execute(
        select(Message.campaign_step, Message.template, Message.status, func.count()).group_by(
            Message.campaign_step, Message.template, Message.status
        )
    )
    for step, template, status, n in rows:
        counts = found.setdefault(step, {}).setdefault(
            str(template), dict.fromkeys(("queued", "sent", "failed", "bounced"), 0)
        )
        counts[_STATUS_FIELDS[MessageStatus(status)]] += int(n)
    return found


def _counts(by_template: dict[str, dict[str, int]]) -> dict[str, int]:
    total = dict.fromkeys(("queued", "sent", "failed", "bounced"), 0)
    for counts in by_template.values():
        for field, n in counts.items():
            total[field] += n
    return total


def campaign_steps(session: Session) -> list[StepOutcome]:
    """Every campaign step in the order it went out, with the registrations that followed.

    Three statements, whatever the number of steps: the delivery counts (shared with
    `transactional`, one pass over an index of the outbox), each step's audience and start
    (one pass over the index (step, organization, queued at)), and what followed every step.
    The outbox rows themselves, which carry the rendered bodies, are never read.
    """
    deliveries = _deliveries(session)
    return _steps(session, deliveries)


def _steps(
    session: Session, deliveries: dict[str | None, dict[str, dict[str, int]]]
) -> list[StepOutcome]:
    # Per (step, organization) first, in the index's order; then per step.
    reached = (
        select(
            Message.campaign_step.label("step"),
            Message.organization_id.label("organization_id"),
            func.min(Message.created_at).label("first_at"),
        )
        .where(Message.campaign_step.is_not(None))
        .group_by(Message.campaign_step, Message.organization_id)
        .subquery("reached")
    )
    audiences = session.execute(
        select(
            reached.c.step, func.min(reached.c.first_at), func.count(reached.c.organization_id)
        ).group_by(reached.c.step)
    ).all()
    starts = {str(step): as_instant(started) for step, started, _n in audiences}
    followed = _followed(session, {k: v for k, v in starts.items() if v is not None})
    outcomes = []
    for step, _started, organizations in audiences:
        by_template = deliveries.get(step, {})
        counts = _counts(by_template)
        # A step is sent from one template; should it ever hold several, the most used names it.
        template = max(by_template, key=lambda t: (sum(by_template[t].values()), t), default="")
        delivery = Delivery(
            key=str(step),
            template=template,
            queued=counts["queued"],
            sent=counts["sent"],
            failed=counts["failed"],
            bounced=counts["bounced"],
            organizations=int(organizations),
            first_queued_at=starts[str(step)],
        )
        outcomes.append(StepOutcome(delivery, *followed.get(str(step), (0, 0))))
    never = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(
        outcomes,
        key=lambda o: (o.delivery.first_queued_at or never, o.delivery.key),
    )


def _followed(session: Session, starts: dict[str, dt.datetime]) -> dict[str, tuple[int, int]]:
    """Per step: registrations submitted within FOLLOW_DAYS of the step's start by
    organizations the step wrote to, and how many organizations those were.

    One statement of one branch per step, each naming its step as a constant: so each branch
    reads only its step's part of the index (step, organization) and the database joins it to
    the window's registrations in organization order, instead of hashing the whole outbox.
    A step goes out in one run, so its first message stands for all of its messages; measuring
    from each organization's own message would probe the registrations once per message sent.
    """
    if not starts:
        return {}
    recipient = aliased(Message)
    branches = [
        select(
            literal(step, String).label("step"),
            func.count().label("registrations"),
            func.count(func.distinct(Registration.organization_id)).label("organizations"),
        ).where(
            Registration.submitted_at >= started,
            Registration.submitted_at < started + dt.timedelta(days=FOLLOW_DAYS),
            exists().where(
                recipient.campaign_step == literal_column(_quoted(step)),
                recipient.organization_id == Registration.organization_id,
            ),
        )
        for step, started in starts.items()
    ]
    statement = branches[0] if len(branches) == 1 else union_all(*branches)
    return {
        str(step): (int(n), int(organizations))
        for step, n, organizations in session.execute(statement)
    }


def _quoted(value: str) -> str:
    """A string as an SQL literal (a step name is text the campaign wrote, not user input,
    but quoted properly all the same)."""
    return "'" + value.replace("'", "''") + "'"


def transactional(session: Session) -> list[Delivery]:
    """Messages outside campaigns (verification links, confirmations...) by template."""
    return _transactional(_deliveries(session))


def _transactional(deliveries: dict[str | None, dict[str, dict[str, int]]]) -> list[Delivery]:
    found = [
        Delivery(
            key=template,
            template=template,
            queued=counts["queued"],
            sent=counts["sent"],
            failed=counts["failed"],
            bounced=counts["bounced"],
        )
        for template, counts in deliveries.get(None, {}).items()
    ]
    return sorted(found, key=lambda d: (-d.total, d.template))


@dataclass(frozen=True)
class CampaignMail:
    steps: list[StepOutcome]
    other: list[Delivery]


def campaign_mail(session: Session) -> CampaignMail:
    """The Campaigns page whole: `campaign_steps` and `transactional` from one read of the
    delivery counts."""
    deliveries = _deliveries(session)
    return CampaignMail(_steps(session, deliveries), _transactional(deliveries))
