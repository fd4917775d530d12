"""One calm look for every page: the Streamlit theme, the chart colours, a little CSS.

The Streamlit theme itself is in `theme_options` (passed on the command line).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import theme_options as base

PRIMARY = base.PRIMARY
TEXT = base.TEXT
MUTED = base.MUTED
BACKGROUND = base.BACKGROUND
GRID = base.GRID

PANEL = "#eceff3"

# The funnel, from nothing to done: one hue growing darker.
STAGE_COLORS = {
    "not_registered": "#cbd2d9",
    "registered": "#a9cce3",
    "verified": "#6aa6cd",
    "ready": "#2a6f97",
    "migrated": "#173f5f",
}
# Outbox states: neutral while waiting, green for done, warm for trouble.
DELIVERY_COLORS = {
    "queued": "#cbd2d9",
    "sent": "#4c956c",
    "failed": "#c8553d",
    "bounced": "#e09f3e",
}
SERIES = ["#2a6f97", "#4c956c", "#e09f3e", "#8e6c8a", "#c8553d", "#5f7c8a", "#9fb3c8"]
GOAL = "#c8553d"

_CSS = f"""
<style>
[data-testid="stMetric"] {{
    background: {BACKGROUND};
    border: 1px solid {GRID};
    border-radius: 6px;
    padding: 0.6rem 0.9rem;
}}
[data-testid="stMetricLabel"] p {{ color: {MUTED}; font-size: 0.85rem; }}
h1, h2, h3 {{ color: {TEXT}; font-weight: 600; letter-spacing: -0.01em; }}
</style>
"""


def vega_lite_config() -> dict[str, Any]:
    """The charts' look (the `config` of every Vega-Lite spec `charts` writes)."""
    font = "Source Sans Pro, Noto Sans CJK JP, sans-serif"
    return {
        "background": "transparent",
        "font": font,
        "view": {"stroke": "transparent"},
        "axis": {
            "labelColor": MUTED,
            "titleColor": MUTED,
            "gridColor": GRID,
            "domainColor": GRID,
            "tickColor": GRID,
            "labelFontSize": 12,
            "titleFontSize": 12,
            "titleFontWeight": "normal",
        },
        "legend": {"labelColor": TEXT, "titleColor": MUTED, "labelFontSize": 12},
        "range": {"category": SERIES},
        "bar": {"color": PRIMARY},
        "line": {"color": PRIMARY, "strokeWidth": 2},
    }


def apply() -> None:
    st.html(_CSS)
