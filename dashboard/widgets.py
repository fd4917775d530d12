"""Pieces every page uses: the sidebar, a page's heading, empty states, and the error guard."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Sequence
from typing import Any, Literal

import pyarrow as pa
import streamlit as st
from streamlit.navigation.page import StreamlitPage

from dashboard import format as fmt
from dashboard import runtime
from dashboard.auth import Viewer, sign_out
from dashboard.data import TTL

log = logging.getLogger("switchover.dashboard")

PHASES = {
    "before": "Before pre-registration",
    "open": "Pre-registration open",
    "closed": "Pre-registration closed; before the switch",
    "switched": "After the switch",
}


def sidebar(viewer: Viewer) -> None:
    calendar = runtime.calendar()
    now = runtime.now()
    with st.sidebar:
        st.caption(PHASES[calendar.phase(now)])
        st.caption(f"{fmt.instant(now, calendar.tz, zone=True)} · figures refresh every {TTL} s")
        st.divider()
        st.caption(f"Signed in as **{viewer.name}**")
        if st.button("Sign out", key="sign_out", type="tertiary"):
            sign_out()


def header(title: str, caption: str) -> None:
    st.title(title)
    st.caption(caption)


def figures_as_of(when: dt.datetime | None) -> None:
    """Say when a page's figures were computed, if they came from the refresh's snapshot
    (live figures need no note)."""
    if when is None:
        return
    tz = runtime.settings().tz
    st.caption(
        f"Figures as of {when.astimezone(tz).strftime('%H:%M')} ({tz.key}), kept by the "
        "dashboard-refresh flow every minute.",
        help="Pages show the figures the refresh flow last computed while they are fresh, and "
        "compute them on the spot when they are not.",
    )


def nothing_yet(message: str) -> None:
    """Say plainly that a section's data does not exist yet (rather than show empty charts)."""
    st.info(message, icon=":material/hourglass_empty:")


def grid(
    rows: Sequence[dict[str, Any]],
    *,
    columns: dict[str, Any] | None = None,
    height: int | Literal["auto", "stretch", "content"] = "auto",
    key: str | None = None,
) -> None:
    """A read-only table; instants in the dashboard's time zone, query column names in words
    ('submitted_at' shows as 'Submitted at')."""
    tz = runtime.settings().tz
    shown = [
        {(fmt.label(k) if k.islower() else k): v for k, v in row.items()}
        for row in fmt.table(rows, tz)
    ]
    st.dataframe(
        _table(shown),
        column_config=columns,
        hide_index=True,
        width="stretch",
        # A fixed height only for long tables; a short one should not trail empty rows.
        height=height if len(rows) > 10 else "auto",
        key=key,
    )


def chart(spec: dict[str, Any]) -> None:
    """Draw a chart (a Vega-Lite spec from `charts`) at full width, in its own look.

    The spec goes to Streamlit as it is, without checking it against the Vega-Lite JSON schema
    on every run: that check costs more than the page's queries (tens of milliseconds a chart),
    and a spec's shape depends only on code, which the tests check
    (tests/dashboard/test_charts.py) with the schema.
    """
    datasets = spec.get("datasets")
    if datasets:
        spec = {**spec, "datasets": {name: _table(rows) for name, rows in datasets.items()}}
    st.vega_lite_chart(spec, theme=None, width="stretch")


def _table(rows: list[dict[str, Any]]) -> pa.Table | list[dict[str, Any]]:
    """Rows as an Arrow table: Streamlit sends a table as it is, where rows go through a pandas
    DataFrame first (most of a chart's or a grid's cost; a page draws several). Rows Arrow
    cannot type (a column mixing kinds) go as they are."""
    try:
        return pa.Table.from_pylist(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return rows


def run_page(page: StreamlitPage) -> None:
    """Run a page; a failure shows a reference number, never the error itself."""
    try:
        page.run()
    except Exception:
        reference = secrets.token_hex(4)
        log.exception("dashboard page %r failed (reference %s)", page.title, reference)
        st.error(
            f"This page could not be shown. The error has been logged with reference "
            f"**{reference}**; please pass it on to whoever runs the dashboard."
        )
