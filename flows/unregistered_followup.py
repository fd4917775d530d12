"""The unregistered-followup flow: after the close, escalate to organizations not registered."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from prefect import flow
from pydantic import Field

from domain.campaign import Campaign, Scheduled, followup_mailing, load_campaign
from domain.context import App
from domain.followup import CSV_COLUMNS, build_call_list, call_list_csv, record_published
from domain.mailing import MailingResult, StencilCache
from flows import reports
from flows.runtime import flow_app, publish_markdown, publish_table, work_session
from tasks.mailing import mail_organizations, organization_batches
from tasks.outbox import drain_outbox

ARTIFACT_KEY = "unregistered-followup"
CALL_LIST_KEY = "call-list"
TABLE_ROWS = 1_000  # the UI's table stays usable; the CSV artifact has every row
ACTOR = "flow:unregistered-followup"


@flow(name="unregistered-followup", log_prints=True)
def unregistered_followup(
    as_of: dt.datetime | None = None,
    dry_run: bool = False,
    step: str | None = None,
    batch_size: Annotated[int, Field(ge=50, le=20_000)] = 1_000,
) -> dict[str, Any]:
    """After the close, the follow-up steps due today for organizations without a verified
    registration: emails to every contact on file, the account managers' call list, and after
    the switch the "how to regain access" email.

    Args:
        as_of: Run as if it were this moment (rehearsals, the calendar simulator);
            empty means now.
        dry_run: Only count and preview; queue, send and record nothing.
        step: Run this follow-up step of the campaign file instead of those due today.
        batch_size: Organizations per task.
    """
    with flow_app(as_of) as app:
        now = app.clock.now()
        calendar = app.calendar
        campaign = load_campaign(app.settings)
        today = calendar.local_date(now)
        if step:
            chosen = campaign.step(step)
            if chosen.kind != "followup":
                raise ValueError(f"{step!r} is a reminder; run reminder-campaign for it")
            due = [chosen]
        else:
            due = campaign.followups_due(today)
        body = f"## Follow-up of unregistered organizations — {reports.when(calendar, now)}\n\n"
        if dry_run:
            body += reports.DRY_RUN_BANNER + "\n"
        if not due:
            body += (
                f"No follow-up step is due on {today} (calendar phase: {calendar.phase(now)}).\n"
            )
            body += "\n" + reports.next_step_line(campaign.next_after(today))
            publish_markdown(ARTIFACT_KEY, body, "unregistered-followup: nothing due")
            return {"steps": [], "dry_run": dry_run}
        summary: dict[str, Any] = {"steps": [s.name for s in due], "dry_run": dry_run}
        for scheduled in due:
            if scheduled.action == "email":
                section, counts = _email_step(app, scheduled, batch_size, dry_run)
            else:
                section, counts = _call_list_step(app, scheduled, dry_run)
            body += section + "\n"
            summary[scheduled.name] = counts
        body += reports.next_step_line(_next(campaign, today))
        publish_markdown(
            ARTIFACT_KEY,
            body,
            "unregistered-followup: "
            + ", ".join(s.name for s in due)
            + (" (dry run)" if dry_run else ""),
        )
        return summary


def _next(campaign: Campaign, today: dt.date) -> Scheduled | None:
    upcoming = [s for s in campaign.followups if s.date > today]
    return min(upcoming, key=lambda s: s.date) if upcoming else None


def _email_step(
    app: App, scheduled: Scheduled, batch_size: int, dry_run: bool
) -> tuple[str, dict[str, int]]:
    mailing = followup_mailing(scheduled)
    stencils = StencilCache(app.settings)
    result = MailingResult()
    for first_id, last_id in organization_batches(app, batch_size):
        result.merge(mail_organizations(app, mailing, first_id, last_id, stencils, dry_run))
    section = reports.mailing_section(scheduled, result, stencils.renders, dry_run=dry_run) + "\n"
    sent = 0
    if dry_run:
        section += reports.samples_section(reports.pick_samples(result.samples))
    else:
        delivery = drain_outbox(app, only_keys_prefix=mailing.key_prefix)
        section += reports.delivery_lines(delivery, f"emails of step {scheduled.name}")
        sent = delivery.sent
    return section, {
        "organizations": sum(result.organizations.values()),
        "planned": sum(result.planned.values()),
        "queued": result.created,
        "sent": sent,
    }


def _call_list_step(app: App, scheduled: Scheduled, dry_run: bool) -> tuple[str, dict[str, int]]:
    with work_session(app, dry_run=dry_run) as session:
        call = build_call_list(session, app.clock, scheduled.step.segments)
        if not dry_run:
            record_published(session, app.clock, call, step=scheduled.name, actor=ACTOR)
    csv_text = call_list_csv(call.rows, app.calendar)
    section = (
        f"### Step `{scheduled.name}` — call list for account managers ({scheduled.date})\n\n"
        f"{len(call.rows)} organizations without a verified registration.\n\n"
    )
    section += reports.table(("account manager", "organizations"), sorted(call.by_manager.items()))
    section += (
        f"\nThe full list is the `{CALL_LIST_KEY}` artifact (CSV) and the `{CALL_LIST_KEY}-table` "
        "artifact; the dashboard shows the same list live.\n"
    )
    if not dry_run:
        local = app.calendar.local_date(call.generated_at)
        publish_markdown(
            CALL_LIST_KEY,
            f"## Call list — {local} — {len(call.rows)} organizations\n\n"
            "Copy the CSV below into a file (UTF-8) or a spreadsheet.\n\n"
            f"```csv\n{csv_text}```\n",
            f"call list {local}: {len(call.rows)} organizations (CSV)",
        )
        publish_table(
            f"{CALL_LIST_KEY}-table",
            [
                {title: _plain(row.get(column), app) for column, title in CSV_COLUMNS}
                for row in call.rows[:TABLE_ROWS]
            ],
            f"call list {local}: {len(call.rows)} organizations"
            + (
                f" (first {TABLE_ROWS} here; all in the CSV)" if len(call.rows) > TABLE_ROWS else ""
            ),
        )
    return section, {"organizations": len(call.rows)}


def _plain(value: object, app: App) -> object:
    if isinstance(value, dt.datetime):
        return f"{app.calendar.local(value):%Y-%m-%d %H:%M}"
    return "" if value is None else value
