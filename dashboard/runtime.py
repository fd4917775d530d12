"""The dashboard's process-wide resources: settings, the database and the clock, opened once.

Streamlit runs every page script anew on each interaction; `st.cache_resource` keeps one `App`
(engine, connection pool, clock) for the whole server process.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import streamlit as st
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from domain.clock import Calendar
from domain.context import App, open_app
from domain.settings import Settings, load_settings

log = logging.getLogger("switchover.dashboard")


@st.cache_resource(show_spinner=False)
def app() -> App:
    """Settings from SWITCHOVER_* (and .env); a schema that is behind refuses to open."""
    opened = open_app(load_settings())
    give_work_mem(opened.engine, opened.settings.dashboard_work_mem)
    return opened


def give_work_mem(engine: Engine, work_mem: str) -> None:
    """On PostgreSQL, every connection `engine` opens from now on gets `work_mem` (the
    dashboard's aggregates hash and sort more than the server's default keeps in memory)."""
    if engine.dialect.name != "postgresql":
        return

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT set_config('work_mem', %s, false)", (work_mem,))
        cursor.close()
        dbapi_connection.commit()  # a session-level setting survives the pool's rollbacks

    event.listen(engine, "connect", on_connect)
    engine.dispose()  # connections opened before (the schema check) go; new ones get it


def settings() -> Settings:
    return app().settings


def calendar() -> Calendar:
    return app().calendar


def now() -> dt.datetime:
    """The instant the dashboard stands on (settings' clock_at lets a demo stand on a date)."""
    return app().clock.now()


@contextmanager
def reading() -> Iterator[Session]:
    """A session for read queries; nothing it does is kept."""
    with app().sessions() as session:
        try:
            yield session
        finally:
            session.rollback()
