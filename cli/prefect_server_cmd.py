"""`switchover prefect-server`: Prefect's server (API, UI, scheduler) for the flows' deployments.

The same as `prefect server start` in the foreground, with one fix applied first: on SQLAlchemy
2.1 Prefect 3.8's scheduler cannot insert scheduled runs, so cron schedules never fire
(`flows.prefect_compat`). Settings are Prefect's own (PREFECT_HOME,
PREFECT_SERVER_DATABASE_CONNECTION_URL for PostgreSQL, …); see docs/operations.md.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer


def prefect_server(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (0.0.0.0 for other machines).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 4200,
) -> None:
    """Start Prefect's server with schedules that work on this project's SQLAlchemy."""
    from flows.prefect_compat import patch

    fixed = patch()
    if fixed:
        typer.echo(f"applied the SQLAlchemy 2.1 fix for Prefect's scheduler ({', '.join(fixed)})")
    from prefect.cli import app as prefect_cli

    # One process (no --workers): the fix lives in this process, where the scheduler runs.
    sys.argv = ["prefect", "server", "start", "--host", host, "--port", str(port)]
    prefect_cli()
