"""Shared fixtures. The suite runs against SQLite by default, or against PostgreSQL when
SWITCHOVER_TEST_DATABASE_URL names a server: each run then creates its own database there and
drops it at the end, so runs never see each other's rows.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from db import schema
from db.engine import make_engine
from db.models import Base
from db.scratch import scratch_postgres_database
from domain.clock import FixedClock
from domain.context import App
from domain.settings import Settings

TOKYO = ZoneInfo("Asia/Tokyo")
# In the middle of the pre-registration window, a Tuesday morning in Tokyo.
DEFAULT_NOW = dt.datetime(2025, 7, 1, 9, 0, tzinfo=TOKYO)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    admin_url = os.environ.get("SWITCHOVER_TEST_DATABASE_URL")
    if admin_url and make_url(admin_url).get_backend_name().startswith("postgres"):
        with scratch_postgres_database(admin_url, prefix="switchover_test") as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'switchover.db'}"


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    schema.upgrade(engine)
    yield engine
    engine.dispose()


def truncate_all(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    """The test database, emptied before the test."""
    truncate_all(migrated_engine)
    return migrated_engine


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(_env_file=None, database_url=database_url)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(DEFAULT_NOW)


@pytest.fixture
def app(engine: Engine, settings: Settings, clock: FixedClock) -> App:
    return App(settings=settings, engine=engine, clock=clock)


@pytest.fixture
def session(app: App) -> Iterator[Session]:
    """A plain session; the test commits where the code under test expects its caller to."""
    with app.sessions() as session:
        yield session
