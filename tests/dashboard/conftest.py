"""Fixtures for the dashboard: a populated database, and the Streamlit app pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard import runtime
from domain.clock import FixedClock
from domain.context import App
from tests.dashboard.world import NOW, World, build

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PASSWORD = "tide-tables-and-charts"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives headless Chromium against a live server (pytest -m browser)"
    )


@pytest.fixture
def world(app: App, clock: FixedClock) -> World:
    return build(app, clock)


@pytest.fixture
def dashboard_env(app: App, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The dashboard reads its settings from the environment, like `switchover dashboard`."""
    monkeypatch.setenv("SWITCHOVER_DATABASE_URL", app.settings.database_url)
    monkeypatch.setenv("SWITCHOVER_DASHBOARD_PASSWORD", PASSWORD)
    monkeypatch.setenv("SWITCHOVER_CLOCK_AT", NOW.isoformat())
    monkeypatch.delenv("SWITCHOVER_DEMO_MODE", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    runtime.app().close()
    st.cache_data.clear()
    st.cache_resource.clear()


def signed_in(name: str = "Mika Agent") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["switchover_viewer"] = name
    return at.run()


def open_page(page: str) -> AppTest:
    """A signed-in session on one page (``views/<page>.py``)."""
    at = signed_in()
    at.switch_page(f"views/{page}.py")
    return at.run()
