"""`switchover dashboard`: the managers' dashboard (Streamlit) over the project's database."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from cli.errors import CommandError, user_errors
from dashboard.launch import demo_password, oidc_configured, password_problem, streamlit_command
from domain.context import open_app
from domain.dashboard_refresh import refresh_dashboard
from domain.settings import get_settings

PASSWORD_VARIABLE = "SWITCHOVER_DASHBOARD_PASSWORD"  # noqa: S105 - a variable name, not a secret


def dashboard(
    host: Annotated[
        str | None,
        typer.Option(help="Address to listen on (default: SWITCHOVER_DASHBOARD_HOST)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port (default: SWITCHOVER_DASHBOARD_PORT)."),
    ] = None,
) -> None:
    """Start the managers' dashboard: progress, campaigns, migration, follow-up, helpdesk.

    Viewers sign in with OIDC when .streamlit/secrets.toml has an "auth" section, otherwise with
    SWITCHOVER_DASHBOARD_PASSWORD (in demo mode a password is made up and printed).
    """
    with user_errors():
        settings = get_settings()
        # Refuse here, in one line, what the dashboard would otherwise show as an error page.
        open_app(settings).close()
        environment = dict(os.environ)
        try:
            oidc = oidc_configured(Path.cwd())
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        configured = settings.dashboard_password
        password = configured.get_secret_value() if configured else None
        made_up = False
        if not oidc:
            if password is None and settings.demo_mode:
                password, made_up = demo_password(), True
                environment[PASSWORD_VARIABLE] = password
            problem = password_problem(password)
            if problem:
                raise CommandError(problem)
        listen_host = host or settings.dashboard_host
        listen_port = port or settings.dashboard_port
        command = streamlit_command(listen_host, listen_port)

    typer.echo(f"dashboard on http://{listen_host}:{listen_port}/ (Ctrl-C stops)")
    if oidc:
        typer.echo("sign-in: OIDC, as configured in .streamlit/secrets.toml [auth]")
    elif made_up:
        typer.echo(f"demo mode: the dashboard password is {password}")
    # The dashboard replaces this process, so signals from a supervisor reach it directly.
    os.execve(command[0], command, environment)  # noqa: S606 - our own interpreter, fixed argv


def refresh() -> None:
    """Compute the dashboard's heavy figures now and keep them for its pages.

    The dashboard-refresh flow does this every minute; pages use the kept figures while they
    are younger than SWITCHOVER_DASHBOARD_SNAPSHOT_MAX_AGE_SECONDS, and compute them otherwise.
    """
    with user_errors():
        app = open_app(get_settings())
        try:
            seconds = refresh_dashboard(app)
        finally:
            app.close()
    typer.echo(
        f"dashboard figures kept ({len(seconds)}) in {sum(seconds.values()):.2f} s: "
        + ", ".join(f"{name} {s:.2f} s" for name, s in seconds.items())
    )
