"""The first migration run freezes pre-registration, whatever the calendar says; pages say so."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from db.models import Organization, Registration
from domain.context import App
from domain.migration import runs
from tests import factories
from tests.web.helpers import log_in, post_form, text_of


def test_a_started_migration_freezes_pre_registration(
    client: TestClient, portal: App, org: Organization
) -> None:
    with portal.unit_of_work() as session:
        pending = factories.registration(
            session, portal.clock, portal.calendar, org, "p@owner.example"
        )
    assert log_in(client, org.legacy_login_id).status_code == 303
    assert 'name="email"' in client.get("/registrations").text  # the window is open
    with portal.unit_of_work() as session:
        runs.start(session, portal.clock, actor="flow:test", parameters={})
    page = client.get("/registrations")
    assert "The switch to individual log-ins has started" in text_of(page.text)
    assert 'name="email"' not in page.text and "/resend" not in page.text
    added = post_form(
        client,
        "/registrations",
        {"name": "Late Person", "email": "late@owner.example", "role": "normal"},
        "/registrations",
    )
    assert "Pre-registration is not open" in text_of(added.text)
    withdrawn = post_form(client, f"/registrations/{pending.id}/withdraw", {}, "/registrations")
    assert "the switch to individual log-ins has started" in text_of(withdrawn.text)
    with portal.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Registration)) == 1
        assert session.get_one(Registration, pending.id).status.value == "pending"
