"""`switchover portal`: serve the public portal with uvicorn."""

from __future__ import annotations

import socket
import sys
from typing import Annotated

import typer
import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

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
    config = _PortalConfig(
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
    _serve(config)


class _PortalConfig(uvicorn.Config):
    def bind_socket(self) -> socket.socket:
        """The socket that all workers accept on, labelled as TCP.

        uvicorn 0.54 creates it with ``proto`` 0; accepted connections inherit that, and asyncio
        then leaves TCP_NODELAY off, so with ``--workers 2`` and more every keep-alive response
        whose body is written after its headers waited ~40 ms for the client's delayed ACK
        (uvicorn issue #3149). A single worker is not affected: asyncio binds that socket itself.
        """
        bound = super().bind_socket()
        if bound.family not in (socket.AF_INET, socket.AF_INET6) or bound.proto:
            return bound
        return socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, fileno=bound.detach())


def _serve(config: uvicorn.Config) -> None:
    """`uvicorn.run` for a config made here (uvicorn.run builds its own)."""
    server = uvicorn.Server(config=config)
    try:
        if config.workers > 1:
            Multiprocess(config, sockets=[config.bind_socket()]).run()
        else:
            config.load_app()
            server.run()
    except KeyboardInterrupt:
        pass
    if config.workers == 1 and not server.started:
        sys.exit(STARTUP_FAILURE)
