"""`switchover portal`: serve the public portal with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from cli.errors import CommandError
from domain.context import open_app
from domain.settings import get_settings
from portal.secret import session_secret


def portal(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (they share the database).")
    ] = 1,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Proxies whose X-Forwarded-For/-Proto are trusted (comma-separated IPs, or "
            "'*'); the client address they report is what log-in throttling counts.",
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the pre-registration portal (log-in, registrations, verification links, helpdesk).

    The public address in links (SWITCHOVER_PORTAL_BASE_URL) is independent of --host/--port,
    so the portal can sit behind a proxy.
    """
    settings = get_settings()
    # Fail here, in one line, rather than in every worker with a traceback: the schema must be
    # current and the session key readable (generated on first start).
    open_app(settings).close()
    try:
        session_secret(settings)
    except (ValueError, OSError) as exc:
        raise CommandError(str(exc)) from None
    typer.echo(
        f"portal on http://{host}:{port} (public address {settings.portal_base_url}); Ctrl-C stops"
    )
    uvicorn.run(
        "portal.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=forwarded_allow_ips is not None,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level=log_level,
        server_header=False,
        # A worker imports the whole stack before it answers; on a busy machine that takes
        # longer than uvicorn's default 5 s, and the supervisor would kill it mid-start.
        timeout_worker_healthcheck=60,
    )
