"""The composition root: settings, engine, sessions, clock and calendar, opened once per process.

Every entry point (CLI, portal, flows, dashboard) opens its database through `open_app`, which
refuses a database whose schema is behind, so nothing ever writes into a half-migrated schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_engine, session_factory, unit_of_work
from db.schema import require_current
from domain.clock import Calendar, Clock, clock_from_settings
from domain.settings import Settings, get_settings


@dataclass
class App:
    settings: Settings
    engine: Engine
    clock: Clock
    sessions: sessionmaker[Session] = field(init=False)

    def __post_init__(self) -> None:
        self.sessions = session_factory(self.engine)

    @property
    def calendar(self) -> Calendar:
        return Calendar.from_settings(self.settings)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        with unit_of_work(self.sessions) as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


def open_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    check_schema: bool = True,
) -> App:
    settings = settings or get_settings()
    engine = make_engine(settings.database_url, echo=settings.database_echo)
    if check_schema:
        try:
            require_current(engine)
        except BaseException:
            engine.dispose()
            raise
    return App(settings=settings, engine=engine, clock=clock or clock_from_settings(settings))
