"""Alembic driven from code: upgrade the schema; refuse to work on a database that is behind."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

MIGRATIONS = Path(__file__).with_name("migrations")
UPGRADE_HINT = "run `switchover db upgrade`"


class SchemaError(Exception):
    """The database cannot be used as it is; the message names the command that fixes it."""


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # env.py takes this engine's connection rather than a URL, so passwords never pass through
    # configparser interpolation and tests can hand in their own engine.
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        reason = (str(exc.orig).strip().splitlines() or ["unknown error"])[0]
        raise SchemaError(
            f"cannot open the database ({reason}); check SWITCHOVER_DATABASE_URL and that the "
            "server is running"
        ) from None


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Apply migrations; returns (revision before, revision after)."""
    before = current_revision(engine)
    command.upgrade(alembic_config(engine), revision)
    return before, current_revision(engine) or ""


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def require_current(engine: Engine) -> None:
    """Raise a one-line `SchemaError` unless the schema is at the newest migration."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if current is None:
        raise SchemaError(f"the database has no Switchover schema yet; {UPGRADE_HINT}")
    script = ScriptDirectory(str(MIGRATIONS))
    known = {rev.revision for rev in script.walk_revisions()}
    if current not in known:
        raise SchemaError(
            f"the database is at revision {current}, which this version of Switchover does not "
            "know (it is newer, or from another project); upgrade Switchover or point "
            "SWITCHOVER_DATABASE_URL elsewhere"
        )
    raise SchemaError(f"the database is behind (revision {current}, newest {head}); {UPGRADE_HINT}")
