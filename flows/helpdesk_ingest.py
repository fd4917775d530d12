"""The helpdesk-ingest flow: the support mailbox, read into helpdesk contacts every few minutes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from prefect import flow
from pydantic import Field

from domain.helpdesk_ingest.mailboxes import open_mailbox
from domain.helpdesk_ingest.run import IngestSummary
from flows import reports
from flows.runtime import flow_app, publish_markdown, publish_table
from tasks.helpdesk import ingest_support_mail
from tasks.outbox import drain_outbox

ARTIFACT_KEY = "helpdesk-ingest"
ACKNOWLEDGEMENTS = "helpdesk_acknowledgement:"


@flow(name="helpdesk-ingest", log_prints=True)
def helpdesk_ingest(
    as_of: dt.datetime | None = None,
    dry_run: bool = False,
    acknowledge: bool | None = None,
    limit: Annotated[int | None, Field(ge=1, le=100_000)] = None,
    batch_size: Annotated[int, Field(ge=1, le=1_000)] = 100,
) -> dict[str, Any]:
    """Read the support mailbox (IMAP, or a Maildir) into helpdesk contacts.

    Each new message becomes a contact — once, however often it is read (Message-ID), threaded
    to its conversation when it is a reply, matched to an organization by the sender's address
    and categorized by English and Japanese rules. The mailbox itself is not changed except for
    a keyword that mail clients do not show.

    Args:
        as_of: Run as if it were this moment (rehearsals, the calendar simulator);
            empty means now.
        dry_run: Read and report what would be stored; store, flag and send nothing.
        acknowledge: Email an acknowledgement with the reference number to each new request;
            empty means the setting SWITCHOVER_HELPDESK_ACKNOWLEDGE_MAIL.
        limit: Read at most this many messages in this run; the next run continues.
        batch_size: Messages per transaction.
    """
    with flow_app(as_of) as app:
        send_ack = app.settings.helpdesk_acknowledge_mail if acknowledge is None else acknowledge
        mailbox = open_mailbox(app.settings)
        try:
            summary = ingest_support_mail(app, mailbox, dry_run, send_ack, limit, batch_size)
        finally:
            mailbox.close()
        delivery = None
        if not dry_run and summary.acknowledged:
            delivery = drain_outbox(app, only_keys_prefix=ACKNOWLEDGEMENTS)
        now = app.clock.now()
        body = f"## Helpdesk ingest — {reports.when(app.calendar, now)}\n\n"
        if dry_run:
            body += reports.DRY_RUN_BANNER + "\n"
        body += report_body(summary, mailbox.location, dry_run)
        if delivery is not None:
            body += "\n" + reports.delivery_lines(delivery, "acknowledgements")
        publish_markdown(
            ARTIFACT_KEY,
            body,
            f"helpdesk-ingest: {summary.new_contacts} new, {summary.replies} replies, "
            f"{summary.duplicates} already stored" + (" (dry run)" if dry_run else ""),
        )
        if summary.examples:
            publish_table(
                f"{ARTIFACT_KEY}-examples",
                summary.examples,
                f"helpdesk-ingest: the first {len(summary.examples)} messages stored",
            )
        return {
            "dry_run": dry_run,
            "read": summary.read,
            "new_contacts": summary.new_contacts,
            "replies": summary.replies,
            "duplicates": summary.duplicates,
            "unreadable": len(summary.unreadable),
            "acknowledged": summary.acknowledged,
            "delivered": delivery.sent if delivery else 0,
        }


def report_body(summary: IngestSummary, location: str, dry_run: bool) -> str:
    verb = "would be" if dry_run else "were"
    rows: list[tuple[str, object]] = [
        ("messages read", summary.read),
        (f"new requests that {verb} stored", summary.new_contacts),
        (f"replies that {verb} threaded to their conversation", summary.replies),
        ("already stored (same Message-ID)", summary.duplicates),
        ("copies of our own outgoing mail (skipped)", summary.own_messages),
        ("unreadable (left in the mailbox, see the log)", len(summary.unreadable)),
        (f"acknowledgements that {verb} queued", summary.acknowledged),
        (f"conversations that {verb} reopened by a customer's reply", summary.reopened),
    ]
    text = f"Mailbox: `{location}`\n\n" + reports.table(("what", "count"), rows)
    if summary.categories:
        text += "\n### By category\n" + reports.table(
            ("category", "messages"), sorted(summary.categories.items())
        )
    if summary.matches:
        text += "\n### How the organization was found\n" + reports.table(
            ("evidence", "messages"), sorted(summary.matches.items())
        )
    if summary.threaded_by:
        text += "\n### How replies were threaded\n" + reports.table(
            ("by", "replies"), sorted(summary.threaded_by.items())
        )
    if summary.unreadable:
        text += "\nUnreadable: " + ", ".join(f"`{key}`" for key in summary.unreadable[:20]) + "\n"
    for warning in summary.warnings:
        text += f"\n**Warning:** {reports.cell(warning)}\n"
    return text
