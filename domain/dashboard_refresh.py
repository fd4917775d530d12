"""Keep the dashboard's heavy figures (db.dashboard.snapshot) computed ahead of the pages.

Run every minute by the dashboard-refresh flow, or by `switchover dashboard-refresh`; pages use
what it keeps while it is younger than `dashboard_snapshot_max_age_seconds`.
"""

from __future__ import annotations

from sqlalchemy import text

from db.dashboard import snapshot
from domain.context import App
from domain.emails.catalog import FOLLOWUP_STEPS


def refresh_dashboard(app: App) -> dict[str, float]:
    """Compute every kept figure as of the app's clock and keep them, in one transaction (the
    pages never see half a refresh); returns each figure's seconds."""
    inputs = snapshot.Inputs(tz=app.settings.tz, now=app.clock.now(), followup_steps=FOLLOWUP_STEPS)
    with app.unit_of_work() as session:
        if session.get_bind().dialect.name == "postgresql":
            # As much memory as the dashboard's own connections get, for this transaction only.
            session.execute(
                text("SELECT set_config('work_mem', :work_mem, true)"),
                {"work_mem": app.settings.dashboard_work_mem},
            )
        return snapshot.refresh(session, inputs)
