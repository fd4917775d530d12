"""`switchover db …`: create and upgrade the schema."""

from __future__ import annotations

from typing import Annotated

import typer

from db import schema
from db.engine import make_engine
from domain.settings import get_settings

app = typer.Typer(help="Create or upgrade the database schema (Alembic migrations).")


@app.command()
def upgrade(
    revision: Annotated[
        str, typer.Argument(help="Target revision; 'head' is the newest.")
    ] = "head",
) -> None:
    """Apply every migration the database lacks. Safe to run again."""
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        before, after = schema.upgrade(engine, revision)
    finally:
        engine.dispose()
    if before == after:
        typer.echo(f"database already at revision {after} ({_where(settings.database_url)})")
    else:
        typer.echo(
            f"database upgraded {before or 'empty'} -> {after} ({_where(settings.database_url)})"
        )


@app.command()
def current() -> None:
    """Show the database's revision and whether it is up to date."""
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        revision = schema.current_revision(engine)
    finally:
        engine.dispose()
    head = schema.head_revision()
    state = "up to date" if revision == head else f"behind; newest is {head}"
    typer.echo(f"{_where(settings.database_url)}: revision {revision or 'none'} ({state})")


@app.command()
def downgrade(
    revision: Annotated[
        str, typer.Argument(help="Revision to go back to; 'base' drops everything.")
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm that data may be lost.")] = False,
) -> None:
    """Undo migrations down to REVISION (destroys data in the dropped tables)."""
    if not yes:
        raise typer.BadParameter("downgrading can drop data; add --yes to confirm")
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        schema.downgrade(engine, revision)
    finally:
        engine.dispose()
    typer.echo(f"database downgraded to {revision}")


def _where(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
