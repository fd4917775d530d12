"""The reminder-campaign flow: the campaign step due today, to the organizations not yet ready."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from prefect import flow
from pydantic import Field

from domain.campaign import Scheduled, load_campaign, reminder_mailing
from domain.emails.sender import DeliverySummary
from domain.mailing import MailingResult, StencilCache
from flows import reports
from flows.runtime import flow_app, publish_markdown
from tasks.mailing import mail_organizations, organization_batches
from tasks.outbox import drain_outbox

ARTIFACT_KEY = "reminder-campaign"


@flow(name="reminder-campaign", log_prints=True)
def reminder_campaign(
    as_of: dt.datetime | None = None,
    dry_run: bool = False,
    step: str | None = None,
    batch_size: Annotated[int, Field(ge=50, le=20_000)] = 1_000,
) -> dict[str, Any]:
    """Send the campaign step due today to the organizations of its segments.

    Reads the campaign file, finds the step due on the run's date (Asia/Tokyo), classifies every
    organization, queues one email per address of each organization in the step's segments
    (never twice to the same address for the same step), then delivers the step's emails.

    Args:
        as_of: Run as if it were this moment (rehearsals, the calendar simulator);
            empty means now.
        dry_run: Only count and preview: the report shows the numbers per segment and three
            rendered sample emails; nothing is queued or sent.
        step: Send this step of the campaign file instead of the one due today (e.g. to catch
            up after an outage).
        batch_size: Organizations per task.
    """
    with flow_app(as_of) as app:
        now = app.clock.now()
        calendar = app.calendar
        campaign = load_campaign(app.settings)
        today = calendar.local_date(now)
        scheduled: Scheduled | None
        if step:
            scheduled = campaign.step(step)
            if scheduled.kind != "reminder":
                raise ValueError(f"{step!r} is a follow-up step; run unregistered-followup for it")
        else:
            scheduled = campaign.reminder_due(today, calendar)
        header = f"## Reminder campaign — {reports.when(calendar, now)}\n\n"
        if dry_run:
            header += reports.DRY_RUN_BANNER + "\n"
        if scheduled is None:
            publish_markdown(
                ARTIFACT_KEY,
                header
                + f"No reminder is due on {today} (calendar phase: {calendar.phase(now)}).\n\n"
                + reports.next_step_line(campaign.next_after(today)),
                "reminder-campaign: nothing due",
            )
            return {"step": None, "queued": 0, "dry_run": dry_run}

        mailing = reminder_mailing(scheduled, calendar, now)
        stencils = StencilCache(app.settings)
        result = MailingResult()
        for first_id, last_id in organization_batches(app, batch_size):
            result.merge(mail_organizations(app, mailing, first_id, last_id, stencils, dry_run))
        delivery: DeliverySummary | None = None
        if not dry_run:
            delivery = drain_outbox(app, only_keys_prefix=mailing.key_prefix)
        body = (
            header
            + reports.mailing_section(scheduled, result, stencils.renders, dry_run=dry_run)
            + "\n"
        )
        if dry_run:
            body += reports.samples_section(reports.pick_samples(result.samples))
        else:
            body += reports.delivery_lines(delivery, f"emails of step {scheduled.name}")
        body += "\n" + reports.next_step_line(campaign.next_after(scheduled.date))
        publish_markdown(
            ARTIFACT_KEY,
            body,
            f"reminder-campaign {scheduled.name}: {sum(result.planned.values())} emails"
            + (" (dry run)" if dry_run else ""),
        )
        return {
            "step": scheduled.name,
            "dry_run": dry_run,
            "organizations": sum(result.organizations.values()),
            "planned": sum(result.planned.values()),
            "queued": result.created,
            "already_sent": result.already_sent,
            "sent": delivery.sent if delivery else 0,
        }
