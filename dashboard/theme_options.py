"""The Streamlit theme, as `streamlit run` options, and the base colours the charts share.

Passed on the command line by `switchover dashboard`: a .streamlit/config.toml would have to live
wherever the operator happens to start the command. Plain data, so the CLI can import it without
loading Streamlit.
"""

from __future__ import annotations

PRIMARY = "#2a6f97"
TEXT = "#1f2933"
MUTED = "#616e7c"
BACKGROUND = "#f7f8fa"
GRID = "#e4e7eb"

STREAMLIT_OPTIONS: dict[str, str] = {
    "theme.base": "light",
    "theme.primaryColor": PRIMARY,
    "theme.backgroundColor": "#ffffff",
    "theme.secondaryBackgroundColor": BACKGROUND,
    "theme.textColor": TEXT,
    "theme.font": "sans-serif",
    "theme.baseRadius": "small",
    "theme.showWidgetBorder": "true",
}
