"""Access: nothing renders before sign-in; wrong passwords are counted and slowed; OIDC when
configured; failures show a reference, never details; an agent's change is saved and audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from dashboard import data
from db.enums import HelpdeskStatus
from db.models import AuditEvent, HelpdeskContact
from tests.dashboard.conftest import APP, PASSWORD, open_page, signed_in
from tests.dashboard.test_pages import healthy, shown, widget
from tests.dashboard.world import World

pytestmark = pytest.mark.usefixtures("dashboard_env")


def fresh() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=60).run()


def sign_in(at: AppTest, name: str, password: str) -> AppTest:
    widget(at.text_input, "Your name").set_value(name)
    widget(at.text_input, "Password").set_value(password)
    widget(at.button, "Sign in").click()
    return at.run()


def rate_events(session: Session) -> int:
    return int(session.execute(text("SELECT count(*) FROM rate_events")).scalar_one())


def test_nothing_renders_before_sign_in(world: World) -> None:
    at = fresh()
    assert [t.value for t in at.title] == ["Switchover dashboard"]
    assert not at.metric and not at.dataframe
    assert not at.sidebar.children or "Signed in" not in shown(at)
    with pytest.raises(ValueError, match="navigation page"):
        at.switch_page("views/overview.py")


def test_a_wrong_password_is_refused_and_counted(session: Session, world: World) -> None:
    at = sign_in(fresh(), "Mika", "not-the-password")
    assert "That password is not right." in shown(at)
    assert not at.metric
    assert rate_events(session) == 2  # per address and overall


def test_the_right_password_opens_the_dashboard(session: Session, world: World) -> None:
    at = sign_in(fresh(), "  Mika   Tanaka ", PASSWORD)
    healthy(at)
    assert at.session_state["switchover_viewer"] == "Mika Tanaka"
    assert "Organizations" in {m.label for m in at.metric}
    assert "Mika Tanaka" in "\n".join(str(c.value) for c in at.sidebar.caption)


def test_a_name_is_required(world: World) -> None:
    at = sign_in(fresh(), "   ", PASSWORD)
    assert "Enter your name" in shown(at)
    assert not at.metric


def test_guessing_is_stopped(session: Session, world: World) -> None:
    at = fresh()
    for _ in range(10):
        at = sign_in(at, "Mallory", "guess")
    at = sign_in(at, "Mallory", PASSWORD)
    assert "Too many wrong passwords" in shown(at)
    assert not at.metric


def test_without_a_password_the_dashboard_says_what_to_set(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SWITCHOVER_DASHBOARD_PASSWORD")
    at = fresh()
    assert "SWITCHOVER_DASHBOARD_PASSWORD" in shown(at)
    assert not at.text_input


def test_oidc_when_configured(world: World) -> None:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets["auth"] = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "a-long-random-cookie-secret",
        "client_id": "dashboard",
        "client_secret": "secret",
        "server_metadata_url": "https://login.example.com/.well-known/openid-configuration",
    }
    at.user = {"is_logged_in": False}
    at.run()
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.text_input and not at.metric
    at.user = {"is_logged_in": True, "email": "manager@example.com", "name": "Manager"}
    at.run()
    healthy(at)
    assert "Organizations" in {m.label for m in at.metric}
    assert "manager@example.com" in "\n".join(str(c.value) for c in at.sidebar.caption)


def test_a_failing_page_shows_a_reference_not_the_error(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("password=hunter2 at db.internal:5432")

    monkeypatch.setattr(data, "campaign_mail", broken)
    at = open_page("campaigns")
    text_shown = shown(at)
    assert "could not be shown" in text_shown and "reference" in text_shown
    assert "hunter2" not in text_shown and not at.exception


def test_an_agent_changes_status_category_and_adds_a_note(session: Session, world: World) -> None:
    contact = session.scalars(
        select(HelpdeskContact)
        .where(HelpdeskContact.status == HelpdeskStatus.NEW)
        .order_by(HelpdeskContact.received_at)
    ).first()
    assert contact is not None
    at = open_page("helpdesk")
    widget(at.selectbox, "Work on a contact").set_value(contact.id).run()
    healthy(at)
    widget(at.selectbox, "Status").set_value("waiting_on_customer")
    widget(at.selectbox, "Category").set_value("email_not_received")
    widget(at.text_area, "Add a note").set_value("Sent a new link; asked to confirm.")
    widget(at.button, "Save").click().run()
    healthy(at)
    assert "Saved: status, category, note." in shown(at)

    session.expire_all()
    saved = session.get(HelpdeskContact, contact.id)
    assert saved is not None
    assert saved.status is HelpdeskStatus.WAITING_ON_CUSTOMER
    assert saved.category.value == "email_not_received"
    assert saved.first_response_at is not None
    assert saved.notes is not None and "Mika Agent: Sent a new link" in saved.notes
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity_type == "helpdesk_contact", AuditEvent.entity_id == contact.id)
        .where(AuditEvent.actor == "agent:Mika Agent")
        .order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == [
        "helpdesk.status_changed",
        "helpdesk.category_changed",
        "helpdesk.note_added",
    ]
    assert events[0].details == {"before": "new", "after": "waiting_on_customer"}
    # The figures follow at once: one contact fewer is new.
    assert "Open backlog" in {m.label for m in at.metric}


def test_a_stale_change_is_refused(session: Session, world: World) -> None:
    contact = session.scalars(
        select(HelpdeskContact).where(HelpdeskContact.status == HelpdeskStatus.NEW)
    ).first()
    assert contact is not None
    at = open_page("helpdesk")
    widget(at.selectbox, "Work on a contact").set_value(contact.id).run()
    # Another agent closes it meanwhile.
    session.execute(
        text("UPDATE helpdesk_contacts SET status = 'closed' WHERE id = :id"), {"id": contact.id}
    )
    session.commit()
    widget(at.selectbox, "Status").set_value("open")
    widget(at.button, "Save").click().run()
    assert "someone changed it" in shown(at)
    session.expire_all()
    assert session.get(HelpdeskContact, contact.id).status is HelpdeskStatus.CLOSED  # type: ignore[union-attr]


def test_signed_in_pages_show_the_viewer(world: World) -> None:
    at = signed_in("Aiko")
    assert "Aiko" in "\n".join(str(c.value) for c in at.sidebar.caption)
