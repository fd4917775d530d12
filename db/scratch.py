"""Throwaway PostgreSQL databases for the test suite and the benchmarks."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from domain.settings import normalize_database_url


@contextmanager
def scratch_postgres_database(
    admin_url: str, *, prefix: str = "switchover_scratch", template: str | None = None
) -> Iterator[str]:
    """Create a fresh database on the server of `admin_url`, yield its URL, drop it afterwards.

    The name carries the process id and a random part, so parallel runs never meet; the drop is
    forced, so a connection left open by the code under test cannot keep the database alive.
    """
    url = make_url(normalize_database_url(admin_url))
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"{url.render_as_string()} is not a PostgreSQL server")
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            suffix = f' TEMPLATE "{template}"' if template else ""
            connection.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
