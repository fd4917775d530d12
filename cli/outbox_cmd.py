"""`switchover mail send`: deliver the queued emails that are due, once, and say how it went."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.errors import CommandError, fail
from domain.context import open_app
from domain.emails.sender import DeliverySummary, drain
from domain.emails.transport import RelayConfigurationError
from domain.settings import get_settings


def send(
    limit: Annotated[
        int | None, typer.Option(min=1, help="Claim at most this many messages.")
    ] = None,
    prefix: Annotated[
        str | None,
        typer.Option(
            help="Only messages whose idempotency key starts so, e.g. 'reminder:T-7:'.",
        ),
    ] = None,
) -> None:
    """Deliver the queued emails that are due now over one SMTP connection (the outbox-sender
    flow does the same on a schedule). Failures to retry stay queued with their backoff."""
    settings = get_settings()
    application = open_app(settings)
    try:
        summary = drain(application, limit=limit, only_keys_prefix=prefix)
    except RelayConfigurationError as exc:
        raise CommandError(f"{exc}; nothing was sent, the messages stay queued") from None
    finally:
        application.close()
    typer.echo(describe(summary, f"{settings.smtp_host}:{settings.smtp_port}"))
    if summary.relay_error:
        fail(
            f"the mail relay could not be reached ({summary.relay_error}); the messages stay "
            "queued and are retried with backoff",
            code=1,
        )


def describe(summary: DeliverySummary, relay: str) -> str:
    line = (
        f"{summary.claimed} due, {summary.sent} sent, {summary.retried} to retry, "
        f"{summary.failed} failed via {relay} in {summary.seconds:.1f} s"
    )
    if summary.sent and summary.seconds:
        line += f" ({summary.messages_per_second:,.0f} messages/s)"
    return line
