"""The dashboard snapshot: figures kept by the refresh read back equal to the live ones at the
refresh's moment; pages use them while fresh, say so, and compute live otherwise."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cli.main import app as cli
from dashboard import data
from db.dashboard import followup, snapshot
from db.enums import HelpdeskStatus
from db.models import DashboardSnapshot
from domain.clock import FixedClock
from domain.context import App
from domain.dashboard_refresh import refresh_dashboard
from domain.emails.catalog import FOLLOWUP_STEPS
from tests import factories
from tests.dashboard.conftest import open_page, signed_in
from tests.dashboard.test_pages import healthy, metrics, shown
from tests.dashboard.world import World

FRESH = dt.timedelta(minutes=5)


def inputs(app: App) -> snapshot.Inputs:
    return snapshot.Inputs(tz=app.settings.tz, now=app.clock.now(), followup_steps=FOLLOWUP_STEPS)


def test_kept_figures_equal_the_live_figures_at_the_refresh(
    app: App, session: Session, world: World
) -> None:
    seconds = refresh_dashboard(app)
    assert set(seconds) == set(snapshot.FIGURES)
    now = app.clock.now()
    for name in snapshot.FIGURES:
        kept = snapshot.read(session, name, now=now, max_age=FRESH)
        assert kept is not None, name
        assert kept.as_of == now
        assert kept.value == snapshot.compute(session, name, inputs(app)), name
    # Not every figure is empty: the comparison above compared something.
    page = snapshot.read(session, "followup", now=now, max_age=FRESH).value
    assert isinstance(page, followup.FollowupPage)
    assert page.call_list.total == 30 and page.call_list.rows[0]["login_id"]


def test_a_stale_missing_or_future_snapshot_is_not_used(
    app: App, clock: FixedClock, session: Session, world: World
) -> None:
    refresh_dashboard(app)
    refreshed_at = app.clock.now()
    live = snapshot.compute(session, "overview", inputs(app))
    later = refreshed_at + FRESH + dt.timedelta(seconds=1)
    assert snapshot.read(session, "overview", now=later, max_age=FRESH) is None
    earlier = refreshed_at - dt.timedelta(seconds=1)
    assert snapshot.read(session, "overview", now=earlier, max_age=FRESH) is None
    stale = snapshot.Inputs(tz=app.settings.tz, now=later, followup_steps=FOLLOWUP_STEPS)
    assert snapshot.figures(session, "overview", stale, max_age=FRESH) == snapshot.Figures(live)
    fresh = snapshot.figures(session, "overview", inputs(app), max_age=FRESH)
    assert fresh == snapshot.Figures(live, refreshed_at)
    assert snapshot.figures(session, "overview", inputs(app), max_age=None).as_of is None
    snapshot.forget(session, ["overview"])
    assert snapshot.read(session, "overview", now=refreshed_at, max_age=FRESH) is None
    with pytest.raises(ValueError, match="no dashboard figure named"):
        snapshot.compute(session, "nonsense", inputs(app))


def test_snapshot_json_reads_back_what_it_kept() -> None:
    value = {
        "tuple": (1, ("a", 2.5)),
        "list": [None, True, dt.date(2025, 7, 1)],
        "instant": dt.datetime(2025, 7, 1, 0, 0, tzinfo=dt.UTC),
        "status": HelpdeskStatus.OPEN,
        "~odd key": {3: "int keys"},
        "figure": followup.EscalationCount(followup.Segment.NOTHING_VERIFIED, 2, 7),
    }
    back = snapshot.loads(snapshot.dumps(value))
    assert back == value
    assert isinstance(back["tuple"], tuple) and isinstance(back["status"], HelpdeskStatus)
    with pytest.raises(TypeError, match="naive"):
        snapshot.dumps(dt.datetime(2025, 7, 1))
    with pytest.raises(TypeError, match="cannot hold"):
        snapshot.dumps({1, 2})
    with pytest.raises(ValueError, match=r"outside db\.dashboard"):
        snapshot.loads('{"~dc": "os:system", "f": {}}')


@pytest.mark.usefixtures("dashboard_env")
def test_pages_show_kept_figures_and_say_when(app: App, session: Session, world: World) -> None:
    """The dashboard's clock stands on the world's moment (SWITCHOVER_CLOCK_AT): a refresh at
    that moment is fresh for it."""
    at = signed_in()
    healthy(at)
    live = metrics(at)
    assert "Figures as of" not in shown(at), "no snapshot yet: live figures, no note"
    refresh_dashboard(app)
    # An organization added after the refresh is not in the kept figures.
    factories.organization(session, app.clock, name="Latecomer Kaiun")
    session.commit()
    data._figures.clear()  # what the live figures above left in the 30-second cache
    at = signed_in()
    healthy(at)
    assert metrics(at) == live, "the kept figures, not the organization added since"
    assert "Figures as of 09:00 (Asia/Tokyo)" in shown(at)
    for page in ("organizations", "campaigns", "migration", "followup", "helpdesk"):
        at = open_page(page)
        healthy(at)
        assert "Figures as of 09:00 (Asia/Tokyo)" in shown(at), page


def test_cli_refresh_keeps_every_figure(
    app: App, session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWITCHOVER_DATABASE_URL", app.settings.database_url)
    result = CliRunner().invoke(cli, ["dashboard-refresh"])
    assert result.exit_code == 0, result.output
    assert "dashboard figures kept" in result.output
    names = set(session.scalars(select(DashboardSnapshot.name)))
    assert names == set(snapshot.FIGURES)


@pytest.mark.usefixtures("dashboard_env")
def test_an_agents_change_drops_the_kept_helpdesk_figures(
    app: App, session: Session, world: World
) -> None:
    refresh_dashboard(app)
    data.forget_helpdesk()  # what the Helpdesk page does after an agent's change
    names = set(session.scalars(select(DashboardSnapshot.name)))
    assert names == set(snapshot.FIGURES) - set(data.HELPDESK_FIGURES)
