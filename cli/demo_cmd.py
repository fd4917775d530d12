"""`switchover demo`: one command from a fresh clone to a database full of demo customers."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from cli import seed_cmd
from cli.errors import user_errors
from db import schema
from db.engine import make_engine
from db.models import Organization
from domain.settings import get_settings

DEMO_ORGANIZATIONS = 2_000


def demo(
    orgs: Annotated[
        int, typer.Option("--orgs", help="Organizations to seed when the database is empty.")
    ] = DEMO_ORGANIZATIONS,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the demo population.")] = 2025,
) -> None:
    """Create or upgrade the database and load demo data; a second run reuses what is there."""
    with user_errors():
        settings = get_settings()
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        engine = make_engine(settings.database_url)
        try:
            before, after = schema.upgrade(engine)
            with engine.connect() as connection:
                existing = connection.scalar(select(func.count()).select_from(Organization)) or 0
        finally:
            engine.dispose()
    if before == after:
        typer.echo(f"Database {where} is at revision {after}.")
    else:
        typer.echo(f"Database {where}: schema {before or 'empty'} -> {after}.")
    if existing:
        typer.echo(
            f"It already holds {existing:,} organizations; reusing them "
            "(delete the database file to start over)."
        )
        return
    seed_cmd.seed(orgs=orgs, seed=seed, known_passwords=5)
