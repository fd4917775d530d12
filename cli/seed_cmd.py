"""`switchover seed`: fill the database with a realistic, reproducible set of demo customers."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from cli.errors import CommandError, user_errors
from domain.context import open_app
from domain.seed import MAX_KNOWN_PASSWORDS, MAX_ORGANIZATIONS, SeedError, seed_population
from domain.seed.population import check_arguments


def seed(
    orgs: Annotated[
        int,
        typer.Option("--orgs", help=f"How many organizations to add (1 to {MAX_ORGANIZATIONS:,})."),
    ] = 1_000,
    seed: Annotated[
        int, typer.Option("--seed", help="Same seed, same data (into an empty database).")
    ] = 2025,
    known_passwords: Annotated[
        int,
        typer.Option(
            "--known-passwords",
            help=f"How many organizations get the printed demo password (0 to "
            f"{MAX_KNOWN_PASSWORDS}); the others get passwords nobody knows.",
        ),
    ] = 5,
) -> None:
    """Add demo organizations with domains, contacts, subscriptions and usage history.

    Running it again adds more organizations after the existing ones; nothing is overwritten.
    """
    with user_errors():
        try:
            check_arguments(orgs, known_passwords)
        except SeedError as exc:
            raise CommandError(str(exc)) from None
        app = open_app()
        try:
            summary = seed_population(
                app.engine,
                orgs=orgs,
                seed=seed,
                clock=app.clock,
                known_password_count=known_passwords,
            )
        except SeedError as exc:
            raise CommandError(str(exc)) from None
        finally:
            app.close()
        where = make_url(app.settings.database_url).render_as_string(hide_password=True)

    first = summary.first_organization_id
    after = f", after the existing ones (ids from {first:,})" if first > 1 else ""
    typer.echo(
        f"Seeded {summary.organizations:,} organizations (seed {summary.seed}) into {where}{after}"
    )
    width = max(len(table) for table in summary.rows)
    for table, count in summary.rows.items():
        note = "  (catalogue entries added)" if table == "services" else ""
        typer.echo(f"  {table:<{width}}  {count:>10,}{note}")
    typer.echo(
        f"  {'total':<{width}}  {summary.total_rows:>10,} rows in "
        f"{summary.elapsed_seconds:.1f} s ({summary.rows_per_second:,.0f} rows/s)"
    )
    if summary.demo_logins:
        typer.echo(f"Demo logins (legacy organization login; password: {summary.demo_password}):")
        for login in summary.demo_logins:
            typer.echo(f"  {login.login_id:<14} {login.name} ({login.country}, {login.locale})")
    else:
        typer.echo("No demo logins (--known-passwords 0): nobody knows these passwords.")
