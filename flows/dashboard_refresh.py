"""The dashboard-refresh flow: the dashboard's heavy figures, computed ahead every minute."""

from __future__ import annotations

import datetime as dt

from prefect import flow

from domain.dashboard_refresh import refresh_dashboard
from flows.runtime import flow_app


@flow(name="dashboard-refresh", log_prints=True)
def dashboard_refresh(as_of: dt.datetime | None = None) -> dict[str, float]:
    """Compute the figures the dashboard's pages show and keep them for the pages to read.

    Args:
        as_of: Compute them as if it were this moment; empty means now. Pages only use figures
            computed within the last few minutes of their own clock.
    """
    with flow_app(as_of) as app:
        seconds = refresh_dashboard(app)
    print(
        f"dashboard figures kept in {sum(seconds.values()):.2f} s: "
        + ", ".join(f"{name} {s:.2f} s" for name, s in seconds.items())
    )
    return {name: round(s, 3) for name, s in seconds.items()}
