"""The flows' work, as the simulator runs it on each simulated day.

A Prefect flow run costs about a second of orchestration, and the calendar has a hundred and
fifty days with a verification dispatch every hour, so the simulator does not start flow runs:
it calls what the flows call — the same Prefect tasks' functions (``task.fn``: the code without
the orchestration around it) and domain functions, with the same arguments and in the same
order, against an `App` whose clock the simulator moves. Each function below names the flow it
mirrors; the flows' own reports (artifacts) are not produced.

| simulator job             | flow                  | when (simulated, Asia/Tokyo)           |
| ------------------------- | --------------------- | -------------------------------------- |
| `reminder_campaign`       | reminder-campaign     | daily 09:00                            |
| `unregistered_followup`   | unregistered-followup | daily 10:00                            |
| `verification_dispatch`   | verification-dispatch | every tick (hourly by default)         |
| `outbox_sender`           | outbox-sender         | every tick                             |
| `helpdesk_ingest`         | helpdesk-ingest       | daily 18:40                            |
| `helpdesk_recovery`       | helpdesk-recovery     | when an agent takes a request          |
| `process_bounces`         | `switchover bounces process` (cron) | daily 18:30              |
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from db.enums import Role
from domain.campaign import Scheduled, followup_mailing, load_campaign, reminder_mailing
from domain.context import App
from domain.dispatch import CONFIRMATION_KEY_PREFIX
from domain.emails.bounce_mailbox import MaildirBounceMailbox
from domain.emails.bounces import process_mailbox
from domain.followup import build_call_list, record_published
from domain.helpdesk_ingest.mailboxes import MaildirMailbox
from domain.mailing import Mailing, MailingResult, StencilCache
from domain.recovery import Recovered, register_for_organization
from flows.helpdesk_ingest import ACKNOWLEDGEMENTS
from flows.unregistered_followup import ACTOR as FOLLOWUP_ACTOR
from flows.verification_dispatch import OWN_MESSAGES
from tasks.dispatch import (
    confirm_registrations,
    expire_stale_links,
    nudge_unverified,
    send_verification_links,
)
from tasks.helpdesk import ingest_support_mail
from tasks.mailing import mail_organizations, organization_batches
from tasks.outbox import drain_outbox

BATCH = 1_000  # organizations per task, the flows' default


@dataclass
class Sent:
    """A mailing step that went out: the step and when its run started (to find its emails)."""

    step: str
    kind: str  # "reminder" or "followup"
    key_prefix: str
    started: dt.datetime
    queued: int


@dataclass
class Dispatched:
    expired: int = 0
    links: int = 0
    nudged: int = 0
    confirmed: int = 0


@dataclass
class JobLog:
    runs: dict[str, int] = field(default_factory=dict)

    def ran(self, name: str) -> None:
        self.runs[name] = self.runs.get(name, 0) + 1


def _mail(app: App, mailing: Mailing) -> MailingResult:
    stencils = StencilCache(app.settings)
    result = MailingResult()
    for first_id, last_id in organization_batches.fn(app, BATCH):
        result.merge(mail_organizations.fn(app, mailing, first_id, last_id, stencils, False))
    drain_outbox.fn(app, only_keys_prefix=mailing.key_prefix)
    return result


def reminder_campaign(app: App, log: JobLog) -> Sent | None:
    """flows.reminder_campaign: the step due today (the latest whose day has come)."""
    now = app.clock.now()
    calendar = app.calendar
    scheduled = load_campaign(app.settings).reminder_due(calendar.local_date(now), calendar)
    if scheduled is None:
        return None
    log.ran("reminder-campaign")
    mailing = reminder_mailing(scheduled, calendar, now)
    result = _mail(app, mailing)
    return Sent(scheduled.name, "reminder", mailing.key_prefix, now, result.created)


def unregistered_followup(app: App, log: JobLog) -> list[Sent]:
    """flows.unregistered_followup: every follow-up step due today."""
    now = app.clock.now()
    due: list[Scheduled] = load_campaign(app.settings).followups_due(app.calendar.local_date(now))
    if not due:
        return []
    log.ran("unregistered-followup")
    sent = []
    for scheduled in due:
        if scheduled.action == "email":
            mailing = followup_mailing(scheduled)
            result = _mail(app, mailing)
            sent.append(Sent(scheduled.name, "followup", mailing.key_prefix, now, result.created))
        else:
            with app.unit_of_work() as session:
                call = build_call_list(session, app.clock, scheduled.step.segments)
                record_published(
                    session, app.clock, call, step=scheduled.name, actor=FOLLOWUP_ACTOR
                )
    return sent


def verification_dispatch(app: App, log: JobLog) -> Dispatched:
    """flows.verification_dispatch with its defaults (no MX check: the domains are invented)."""
    log.ran("verification-dispatch")
    expired = expire_stale_links.fn(app, False, 200)
    links = send_verification_links.fn(app, False, 200, 5_000, None)
    nudged = nudge_unverified.fn(app, False, 200, 5_000)
    confirmed = confirm_registrations.fn(app, False, 200, 5_000)
    if links.sent or nudged:
        drain_outbox.fn(app, only_keys_prefix=OWN_MESSAGES)
    if confirmed.sent:
        drain_outbox.fn(app, only_keys_prefix=CONFIRMATION_KEY_PREFIX)
    return Dispatched(expired, links.sent, nudged, confirmed.sent)


def outbox_sender(app: App, log: JobLog) -> int:
    """flows.outbox_sender: everything due."""
    log.ran("outbox-sender")
    return drain_outbox.fn(app).sent


def helpdesk_ingest(app: App, log: JobLog, maildir: Path) -> int:
    """flows.helpdesk_ingest, reading the simulation's support Maildir."""
    log.ran("helpdesk-ingest")
    summary = ingest_support_mail.fn(
        app, MaildirMailbox(maildir), False, app.settings.helpdesk_acknowledge_mail, None, 100
    )
    if summary.acknowledged:
        drain_outbox.fn(app, only_keys_prefix=ACKNOWLEDGEMENTS)
    return summary.stored


def helpdesk_recovery(
    app: App, log: JobLog, *, login_id: str, name: str, email: str, agent: str
) -> Recovered:
    """flows.helpdesk_recovery: an agent registers an Administrator and the link goes out."""
    log.ran("helpdesk-recovery")
    with app.unit_of_work() as session:
        done = register_for_organization(
            session,
            app.clock,
            app.calendar,
            app.settings,
            login_id=login_id,
            name=name,
            email=email,
            role=Role.ADMINISTRATOR,
            agent=agent,
        )
    drain_outbox.fn(app, only_keys_prefix=f"verification:registration:{done.registration_id}:")
    return done


def process_bounces(app: App, log: JobLog, maildir: Path) -> int:
    """`switchover bounces process`, as an operator's cron job would run it."""
    log.ran("bounces")
    return process_mailbox(app, MaildirBounceMailbox(maildir)).reports
