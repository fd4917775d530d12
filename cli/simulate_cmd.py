"""`switchover simulate`: replay the whole switch on a simulated calendar and report."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Annotated

import typer

from cli.errors import CommandError, user_errors
from domain.seed import MAX_ORGANIZATIONS
from domain.simulation.model import ModelError, load_behaviour
from simulator import driver, output
from simulator.world import WorldError


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date; write it as 2025-06-01") from None


def simulate(
    orgs: Annotated[
        int, typer.Option("--orgs", min=1, max=MAX_ORGANIZATIONS, help="Organizations to seed.")
    ] = 1_000,
    first: Annotated[
        str, typer.Option("--from", help="First simulated day (Asia/Tokyo), e.g. 2025-06-01.")
    ] = "2025-06-01",
    last: Annotated[str, typer.Option("--to", help="Last simulated day, e.g. 2025-10-31.")] = (
        "2025-10-31"
    ),
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same simulation.")] = 2025,
    out: Annotated[
        Path,
        typer.Option("--out", file_okay=False, help="Folder for the database and the report."),
    ] = Path("var") / "simulation",
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="An EMPTY PostgreSQL database to simulate in (default: a SQLite file in --out).",
        ),
    ] = None,
    tick_hours: Annotated[
        int,
        typer.Option(
            "--tick-hours",
            min=1,
            max=24,
            help="Verification dispatch and outbox every this many simulated hours (their "
            "deployments run every minute or two; the simulator compresses that).",
        ),
    ] = 2,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            dir_okay=False,
            help="TOML file overriding the people's behaviour (see domain/simulation/model.py).",
        ),
    ] = None,
) -> None:
    """Seed ORGS organizations, move a clock day by day from --from to --to, run the flows on
    their dates and let simulated people register, click (or not) and call the helpdesk through
    the real portal; then write report.md, report.json, registrations.csv and a PNG chart.

    Exits with status 1 when one of the report's checks fails.
    """
    with user_errors():
        try:
            options = driver.Options(
                orgs=orgs,
                first_day=_date(first),
                last_day=_date(last),
                seed=seed,
                out=out,
                database_url=database_url,
                tick_hours=tick_hours,
                model=load_behaviour(model),
            )
        except (ValueError, ModelError) as exc:
            raise CommandError(str(exc)) from None
        logging.getLogger("domain").setLevel(logging.WARNING)
        try:
            finished = driver.run(options, progress=lambda line: typer.echo(f"  {line}"))
        except WorldError as exc:
            raise CommandError(str(exc)) from None
        try:
            written = output.write(finished, out)
        finally:
            finished.app.close()
    accounting = written.accounting
    typer.echo(
        f"simulated {options.first_day} to {options.last_day} with {accounting.organizations:,} "
        f"organizations in {finished.seconds:,.0f} s"
    )
    typer.echo("organizations: " + ", ".join(f"{k} {v:,}" for k, v in accounting.states.items()))
    typer.echo(f"messages: {accounting.message_total:,}; helpdesk: {accounting.helpdesk_total:,}")
    failed = [c for c in accounting.checks if not c.passed]
    for check in failed:
        typer.echo(f"CHECK FAILED: {check.name} — {check.detail}")
    typer.echo(f"report: {written.markdown} (also {written.json.name}, {written.chart.name})")
    if failed:
        raise typer.Exit(1)
