"""Every page, rendered by Streamlit's AppTest on the test world: the figures it shows are the
ones plain SQL counts give, and pages whose data does not exist yet say so."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import open_page, signed_in
from tests.dashboard.world import World

pytestmark = pytest.mark.usefixtures("dashboard_env")


def count(session: Session, sql: str) -> int:
    return int(session.execute(text(sql)).scalar_one())


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def shown(at: AppTest) -> str:
    """All the text of the page, to look for a phrase."""
    parts: list[str] = []
    for kind in ("title", "caption", "markdown", "info", "success", "warning", "error", "text"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def healthy(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert "could not be shown" not in shown(at)


def widget(widgets: Any, label: str) -> Any:
    return next(w for w in widgets if w.label == label)


def test_overview_figures_match_sql(session: Session, world: World) -> None:
    at = signed_in()
    healthy(at)
    figures = metrics(at)
    assert figures["Organizations"] == f"{count(session, 'SELECT count(*) FROM organizations'):,}"
    assert figures["Registered"] == str(
        count(
            session,
            "SELECT count(DISTINCT organization_id) FROM registrations WHERE status <> 'withdrawn'",
        )
    )
    assert figures["Ready"] == "10"
    assert figures["Migrated"] == "4"
    # 1 July: 75 days to the close on 14 September, 89 to the switch on 28 September.
    assert figures["Pre-registration closes"] == "75 days"
    assert figures["Login switch"] == "89 days"
    assert figures["Still to register"] == str(40 - int(figures["Registered"]))
    assert [t.label for t in at.tabs][:3] == ["By service", "By country", "By locale"]
    countries = at.dataframe[1].value
    assert int(countries["Organizations"].sum()) == 40


def test_overview_on_an_empty_database_says_so(session: Session) -> None:
    at = signed_in()
    healthy(at)
    assert "no organizations in the database yet" in shown(at)
    assert metrics(at)["Organizations"] == "0"


def test_organizations_search_filter_and_drill_down(session: Session, world: World) -> None:
    at = open_page("organizations")
    healthy(at)
    assert "40 organizations match" in shown(at)
    widget(at.multiselect, "Stage").set_value(["ready"]).run()
    assert "6 organizations match" in shown(at)
    widget(at.multiselect, "Stage").set_value([]).run()
    widget(at.text_input, "Search").set_value(world.japanese_name).run()
    assert "1 organization matches" in shown(at)
    table = at.dataframe[0].value
    assert list(table["Local name"]) == [world.japanese_name]
    organization_id = int(
        session.execute(
            text("SELECT id FROM organizations WHERE name_local = :n"), {"n": world.japanese_name}
        ).scalar_one()
    )
    widget(at.selectbox, "Open an organization").set_value(organization_id).run()
    healthy(at)
    assert world.japanese_name in [str(m.value).strip("*") for m in at.markdown]
    assert any(t.label.startswith("Registrations (") for t in at.tabs)


def test_organizations_opens_from_a_link(session: Session, world: World) -> None:
    login = session.execute(
        text("SELECT legacy_login_id FROM organizations ORDER BY id LIMIT 1")
    ).scalar_one()
    at = signed_in()
    at.query_params["org"] = login
    at.switch_page("views/organizations.py").run()
    healthy(at)
    assert any(t.label == "Messages (2)" for t in at.tabs)


def test_campaigns_page(session: Session, world: World) -> None:
    at = open_page("campaigns")
    healthy(at)
    steps = at.dataframe[0].value
    assert list(steps["Step"]) == ["T-90", "T-75", "followup:close_plus_1", "followup:close_plus_7"]
    t90 = steps[steps["Step"] == "T-90"].iloc[0]
    assert (t90["Sent"], t90["Failed"], t90["Bounced"]) == (
        count(
            session,
            "SELECT count(*) FROM messages WHERE campaign_step = 'T-90' AND status = 'sent'",
        ),
        2,
        3,
    )
    other = at.dataframe[1].value
    assert list(other["Template"]) == ["verification"]


def test_campaigns_without_email_says_so(session: Session) -> None:
    at = open_page("campaigns")
    healthy(at)
    assert "No campaign step has gone out yet" in shown(at)


def test_migration_page(session: Session, world: World) -> None:
    at = open_page("migration")
    healthy(at)
    figures = metrics(at)
    for status in ("migrated", "failed", "pending", "skipped", "rolled_back"):
        label = status.replace("_", " ").capitalize()
        assert figures[label] == str(
            count(session, f"SELECT count(*) FROM migration_items WHERE status = '{status}'")
        )
    assert len(at.get("progress")) == 3
    assert "1 of 2 checks failed." in shown(at)
    reasons = at.dataframe[0].value
    assert list(reasons["Reason"]) == ["no verified Administrator"]


def test_migration_before_any_wave_says_so(session: Session, world: World) -> None:
    session.execute(text("DELETE FROM migration_items"))
    session.execute(text("DELETE FROM migration_waves"))
    session.commit()
    at = open_page("migration")
    healthy(at)
    assert "No migration waves yet" in shown(at)


def test_followup_page_and_call_list(session: Session, world: World) -> None:
    at = open_page("followup")
    healthy(at)
    figures = metrics(at)
    assert figures["Not ready"] == "30"
    assert figures["Never registered"] == str(
        count(
            session,
            "SELECT count(*) FROM organizations o WHERE NOT EXISTS (SELECT 1 FROM registrations r"
            " WHERE r.organization_id = o.id AND r.status <> 'withdrawn')",
        )
    )
    assert "30 organizations" in shown(at)
    calls = at.dataframe[1].value
    assert list(calls["Step reached"][:2]) == ["Close plus 7", "Close plus 7"]
    assert len(at.get("download_button")) == 1
    widget(at.multiselect, "Why not ready").set_value(["nothing_verified"]).run()
    assert "8 organizations" in shown(at)


def test_helpdesk_page(session: Session, world: World) -> None:
    at = open_page("helpdesk")
    healthy(at)
    figures = metrics(at)
    assert figures["Open backlog"] == str(
        count(
            session,
            "SELECT count(*) FROM helpdesk_contacts "
            "WHERE status IN ('new', 'open', 'waiting_on_customer')",
        )
    )
    assert (figures["First response, median"], figures["First response, p90"]) == ("2.0 h", "6.0 h")
    assert (figures["Resolution, median"], figures["Resolution, p90"]) == ("24.0 h", "24.0 h")
    assert figures["Oldest open"] == "10.0 days"  # 21 June 10:00 to 1 July 09:00, roughly
    assert "5 contacts" in shown(at)
    widget(at.multiselect, "Status").set_value([]).run()
    assert "6 contacts" in shown(at)


def test_helpdesk_without_contacts_says_so(session: Session) -> None:
    at = open_page("helpdesk")
    healthy(at)
    assert "No helpdesk contacts yet" in shown(at)


def test_dashboard_connections_get_their_work_mem(
    session: Session, dashboard_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWITCHOVER_DASHBOARD_WORK_MEM", "48MB")
    from dashboard import runtime

    engine = runtime.app().engine
    if engine.dialect.name != "postgresql":
        pytest.skip("work_mem is a PostgreSQL setting")
    for _ in range(2):  # a session's rollback does not undo it
        with runtime.reading() as reading:
            assert reading.execute(text("SHOW work_mem")).scalar_one() == "48MB"
    assert session.execute(text("SHOW work_mem")).scalar_one() != "48MB", "the dashboard's only"
