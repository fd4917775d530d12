"""Fixtures for the portal: the app on the test database with the fixed clock, a client, an
organization that can log in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine

from db.enums import Locale
from db.models import Organization
from domain.clock import FixedClock
from domain.context import App
from domain.passwords import hash_password
from domain.settings import Settings
from portal.app import create_app
from tests import factories

PASSWORD = "Harbour-Light-2025"


@pytest.fixture(scope="session")
def password_hash() -> str:
    # Argon2 is slow on purpose; one hash serves every test.
    return hash_password(PASSWORD)


@pytest.fixture
def portal_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"portal_secret_key": SecretStr("test-secret-" * 4)})


@pytest.fixture
def portal(engine: Engine, portal_settings: Settings, clock: FixedClock) -> App:
    return App(settings=portal_settings, engine=engine, clock=clock)


@pytest.fixture
def client(portal: App) -> Iterator[TestClient]:
    with TestClient(create_app(context=portal), raise_server_exceptions=False) as test_client:
        yield test_client


def make_organization(portal: App, password_hash: str, **kwargs: object) -> Organization:
    with portal.unit_of_work() as session:
        return factories.organization(
            session,
            portal.clock,
            password_hash=password_hash,
            **kwargs,  # type: ignore[arg-type]
        )


@pytest.fixture
def org(portal: App, password_hash: str) -> Organization:
    return make_organization(portal, password_hash, name="Aoshio Kaiun K.K.")


@pytest.fixture
def ja_org(portal: App, password_hash: str) -> Organization:
    return make_organization(
        portal,
        password_hash,
        name="Aoshio Kaiun K.K.",
        locale=Locale.JA,
        domains=("aoshio.example.jp",),
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives headless Chromium against a live portal (pytest -m browser)"
    )
