"""The `switchover` command: one entry point for operators and developers."""

from __future__ import annotations

import typer

from cli import (
    bounces_cmd,
    dashboard_cmd,
    db_cmd,
    demo_cmd,
    flows_cmd,
    helpdesk_cmd,
    mail_cmd,
    mailsink_cmd,
    portal_cmd,
    prefect_server_cmd,
    seed_cmd,
    simulate_cmd,
)
from cli.errors import run_guarded
from domain.settings import get_settings

app = typer.Typer(
    name="switchover",
    help=(
        "Switchover moves a customer portal from one shared login per organization to individual "
        "email logins. Settings come from SWITCHOVER_* variables or .env; start with "
        "`switchover db upgrade`, then `switchover seed` for demo data."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db_cmd.app, name="db")
app.command("seed")(seed_cmd.seed)
app.command("demo")(demo_cmd.demo)
app.add_typer(mail_cmd.app, name="mail")
app.command("mailsink")(mailsink_cmd.mailsink)
app.command("portal")(portal_cmd.portal)
app.add_typer(bounces_cmd.app, name="bounces")
app.command("dashboard")(dashboard_cmd.dashboard)
app.command("dashboard-refresh")(dashboard_cmd.refresh)
app.add_typer(helpdesk_cmd.app, name="helpdesk")
app.command("simulate")(simulate_cmd.simulate)
flows_cmd.register(app)  # serve, deploy, campaign, recover
app.command("prefect-server")(prefect_server_cmd.prefect_server)


@app.callback()
def _fresh_settings() -> None:
    # Settings are read anew for each invocation, so one process (or test) can run several.
    get_settings.cache_clear()


def main() -> None:
    run_guarded(app)


if __name__ == "__main__":
    main()
