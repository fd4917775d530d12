"""`switchover bounces …`: apply the delivery reports waiting in the bounce mailbox."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.errors import CommandError
from domain.context import open_app
from domain.emails.bounce_mailbox import MailboxError, MaildirBounceMailbox
from domain.emails.bounces import BounceSummary, process_mailbox
from domain.settings import get_settings

app = typer.Typer(help="Bounces: mark undeliverable addresses from delivery status reports.")


@app.command()
def process(
    maildir: Annotated[
        Path | None,
        typer.Option(
            file_okay=False,
            help="Maildir the bounces are delivered to (default: SWITCHOVER_BOUNCE_MAILDIR).",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show what would change; change nothing, move nothing."),
    ] = False,
) -> None:
    """Read every waiting report, mark what bounced, and move the reports to .processed.

    Messages that are not delivery reports stay in the mailbox for a person. Safe to run again.
    """
    settings = get_settings()
    path = maildir or settings.bounce_maildir
    if path is None:
        raise CommandError(
            "no bounce mailbox: set SWITCHOVER_BOUNCE_MAILDIR or pass --maildir PATH"
        )
    try:
        mailbox = MaildirBounceMailbox(path)
    except MailboxError as exc:
        raise CommandError(str(exc)) from None
    application = open_app(settings)
    try:
        summary = process_mailbox(application, mailbox, dry_run=dry_run)
    finally:
        mailbox.close()
        application.close()
    typer.echo(_describe(summary, mailbox.location, dry_run))


def _describe(summary: BounceSummary, location: str, dry_run: bool) -> str:
    would = "would mark" if dry_run else "marked"
    lines = [
        f"{location}: read {summary.read}, delivery reports {summary.reports}, "
        f"ignored {summary.ignored} (not reports, left in place)",
        f"bounced addresses {len(summary.bounced_addresses)}, "
        f"delayed addresses {len(summary.delayed_addresses)}",
        f"{would} bounced: {summary.updated_messages} messages, "
        f"{summary.updated_registrations} registrations, {summary.updated_contacts} contacts; "
        f"delay notes {summary.changes.notes}",
    ]
    if summary.unreadable:
        lines.append(
            f"could not read {len(summary.unreadable)} messages (left in place, see the log): "
            + ", ".join(summary.unreadable)
        )
    if dry_run:
        lines.append("dry run: nothing was changed or moved")
    return "\n".join(lines)
