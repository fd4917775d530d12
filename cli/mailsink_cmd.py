"""`switchover mailsink`: the local SMTP server that keeps every email in a Maildir."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from cli.errors import CommandError
from domain.clock import clock_from_settings
from domain.emails.mailsink import MailsinkServer
from domain.settings import get_settings


def mailsink(
    host: Annotated[
        str | None,
        typer.Option(help="Address to listen on (default: SWITCHOVER_MAILSINK_HOST)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port (default: SWITCHOVER_MAILSINK_PORT)."),
    ] = None,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            file_okay=False,
            help="Maildir to keep the messages in (default: SWITCHOVER_MAILSINK_DIR).",
        ),
    ] = None,
) -> None:
    """Receive email on a local SMTP port and keep it in a Maildir, until Ctrl-C.

    Nothing is relayed: demos and rehearsals send here, and the portal's /mailbox page
    shows what was received (when SWITCHOVER_DEMO_MODE=true).
    """
    settings = get_settings()
    server = MailsinkServer(
        directory or settings.mailsink_dir,
        host=host or settings.mailsink_host,
        port=port or settings.mailsink_port,
        clock=clock_from_settings(settings),
    )
    listen_host, listen_port = server.address
    try:
        server.start()
    except OSError as exc:
        raise CommandError(
            f"cannot listen on {listen_host}:{listen_port} ({exc.strerror or exc}); "
            "is another mail sink running? choose another --port"
        ) from None

    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    # SIGTERM too, so a supervisor (or `kill`) shuts the server down as cleanly as Ctrl-C.
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    typer.echo(f"mail sink listening on smtp://{listen_host}:{listen_port}")
    typer.echo(f"storing messages in {server.directory.resolve()} (Maildir); Ctrl-C stops")
    try:
        stop.wait()
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    typer.echo("mail sink stopped")
