"""Fixtures for running the flows under Prefect: one test server per test session.

`prefect_server` starts Prefect's test harness once (a real API server in a subprocess, on a
temporary SQLite database) and points this process at it; `flow_env` points the flows at the test
database and at a local SMTP server, through the same SWITCHOVER_* variables production uses.
Tests that need them are marked ``prefect`` (deselect with ``-m "not prefect"``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.smtp_servers import Server, smtp_server


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[str]:
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        url = PREFECT_API_URL.value()
        assert url, "the Prefect test harness did not set PREFECT_API_URL"
        yield str(url)


@pytest.fixture
def smtp() -> Iterator[Server]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def flow_env(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    database_url: str,
    smtp: Server,
    engine: object,
) -> dict[str, str]:
    """SWITCHOVER_* for flows run in this process (and for subprocesses started from it).

    The working directory moves to an empty one, so a developer's .env cannot leak in.
    """
    monkeypatch.chdir(tmp_path)
    values = {
        "SWITCHOVER_DATABASE_URL": database_url,
        "SWITCHOVER_SMTP_HOST": smtp.host,
        "SWITCHOVER_SMTP_PORT": str(smtp.port),
        "SWITCHOVER_SMTP_SECURITY": "none",
        "SWITCHOVER_MAIL_RETRY_BASE_SECONDS": "1",
    }
    for name in [n for n in os.environ if n.startswith("SWITCHOVER_") and n not in values]:
        if name != "SWITCHOVER_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values
