"""`switchover helpdesk …`: the support mailbox and the contact-form export, into contacts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from cli.errors import CommandError, user_errors
from domain.context import open_app
from domain.emails.sender import drain
from domain.helpdesk_ingest.forms_export import (
    FormsImportSummary,
    import_file,
    parse_column_options,
)
from domain.helpdesk_ingest.forms_files import FormsExportError
from domain.helpdesk_ingest.mailboxes import MailboxError, open_mailbox
from domain.helpdesk_ingest.run import IngestSummary, ingest_mailbox
from domain.settings import get_settings
from flows.helpdesk_ingest import ACKNOWLEDGEMENTS

app = typer.Typer(
    help="Helpdesk: read the support mailbox and the contact-form export into contacts.",
    no_args_is_help=True,
)


@app.command()
def ingest(
    maildir: Annotated[
        Path | None,
        typer.Option(
            file_okay=False,
            help="Read this Maildir instead of the mailbox in the settings "
            "(SWITCHOVER_HELPDESK_IMAP_* or SWITCHOVER_HELPDESK_MAILDIR).",
        ),
    ] = None,
    acknowledge: Annotated[
        bool | None,
        typer.Option(
            "--acknowledge/--no-acknowledge",
            help="Email each new request its reference number (default: "
            "SWITCHOVER_HELPDESK_ACKNOWLEDGE_MAIL).",
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Read at most this many messages.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be stored; store nothing.")
    ] = False,
) -> None:
    """Read every message not yet ingested into helpdesk contacts (what the flow does)."""
    with user_errors():
        settings = get_settings()
        application = open_app(settings)
        try:
            try:
                mailbox = open_mailbox(settings, maildir=maildir)
            except MailboxError as exc:
                raise CommandError(str(exc)) from None
            send_ack = settings.helpdesk_acknowledge_mail if acknowledge is None else acknowledge
            try:
                summary = ingest_mailbox(
                    application, mailbox, dry_run=dry_run, acknowledge=send_ack, limit=limit
                )
            except MailboxError as exc:
                raise CommandError(str(exc)) from None
            finally:
                mailbox.close()
            delivered = None
            if summary.acknowledged and not dry_run:
                delivered = drain(application, only_keys_prefix=ACKNOWLEDGEMENTS)
        finally:
            application.close()
    typer.echo(describe_ingest(summary, mailbox.location, dry_run))
    if delivered is not None:
        if delivered.relay_error:
            typer.echo(
                f"acknowledgements queued; the mail relay could not be reached "
                f"({delivered.relay_error}), the outbox-sender delivers them later"
            )
        else:
            typer.echo(f"acknowledgements sent: {delivered.sent}")


def describe_ingest(summary: IngestSummary, location: str, dry_run: bool) -> str:
    would = "would store" if dry_run else "stored"
    lines = [
        f"{location}: read {summary.read}; {would} {summary.new_contacts} new requests and "
        f"{summary.replies} replies; {summary.duplicates} already stored; "
        f"{summary.own_messages} of our own messages skipped",
    ]
    if summary.categories:
        lines.append(
            "categories: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.categories.items()))
        )
    if summary.matches:
        lines.append(
            "organization found by: "
            + ", ".join(f"{k} {v}" for k, v in sorted(summary.matches.items()))
        )
    if summary.unreadable:
        lines.append(
            f"could not read {len(summary.unreadable)} messages (left in place, see the log): "
            + ", ".join(summary.unreadable[:20])
        )
    lines += [f"warning: {warning}" for warning in summary.warnings]
    if dry_run:
        lines.append("dry run: nothing was stored, flagged or sent")
    return "\n".join(lines)


@app.command("import-form")
def import_form(
    file: Annotated[
        Path,
        typer.Argument(
            dir_okay=False, help="The .xlsx Microsoft Forms exports, or a .csv saved from it."
        ),
    ],
    column: Annotated[
        list[str] | None,
        typer.Option(
            "--column",
            help="Which column holds a field, when its header is worded otherwise: "
            "FIELD=HEADER, FIELD one of email, login_id, organization, category, message, "
            "name (repeat for several).",
        ),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            help="Zone of the times in the file (default: SWITCHOVER_TIMEZONE); Forms writes "
            "the exporting user's local time."
        ),
    ] = None,
    acknowledge: Annotated[
        bool, typer.Option("--acknowledge", help="Email each imported request its reference.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be imported; store nothing.")
    ] = False,
) -> None:
    """Import the contact form's answers; answers imported before are skipped."""
    with user_errors():
        try:
            columns = parse_column_options(column or [])
            zone = ZoneInfo(timezone) if timezone else None
        except FormsExportError as exc:
            raise CommandError(str(exc)) from None
        except (ZoneInfoNotFoundError, ValueError):
            raise CommandError(f"unknown time zone {timezone!r}; use e.g. Asia/Tokyo") from None
        application = open_app()
        try:
            with application.sessions() as session:
                session.begin()
                try:
                    summary = import_file(
                        session,
                        application.clock,
                        application.settings,
                        file,
                        columns=columns,
                        acknowledge=acknowledge and not dry_run,
                        timezone=zone,
                    )
                except FormsExportError as exc:
                    session.rollback()
                    raise CommandError(str(exc)) from None
                if dry_run:
                    session.rollback()
                else:
                    session.commit()
            if acknowledge and not dry_run and summary.imported:
                drain(application, only_keys_prefix=ACKNOWLEDGEMENTS)
        finally:
            application.close()
    typer.echo(describe_import(summary, file, dry_run))


def describe_import(summary: FormsImportSummary, file: Path, dry_run: bool) -> str:
    would = "would import" if dry_run else "imported"
    lines = [
        f"{file}: {summary.rows} answers; {would} {summary.imported}; "
        f"{summary.duplicates} imported before; {len(summary.skipped)} skipped",
        "columns: " + ", ".join(f"{k} = {v!r}" for k, v in summary.columns.items()),
    ]
    if summary.categories:
        lines.append(
            "categories: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.categories.items()))
        )
    if summary.matches:
        lines.append(
            "organization found by: "
            + ", ".join(f"{k} {v}" for k, v in sorted(summary.matches.items()))
        )
    lines += [f"row {row}: skipped, {why}" for row, why in summary.skipped[:50]]
    if dry_run:
        lines.append("dry run: nothing was stored")
    return "\n".join(lines)
