"""The managers' dashboard: `switchover dashboard` runs ``streamlit run dashboard/app.py``.

This entry point signs the viewer in, then routes to the pages. Until someone has signed in,
the only page that exists is the sign-in page, whatever URL is asked for.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import streamlit as st
from sqlalchemy.exc import OperationalError

from dashboard import auth, runtime, theme, widgets
from db.schema import SchemaError
from domain.settings import SettingsError

VIEWS = Path(__file__).with_name("views")

# Charts and tables import numpy and pandas lazily, from whichever thread draws first; two
# sessions doing that at once can meet a half-imported module. Import them here, once, first.
for _module in ("numpy", "pandas", "pyarrow"):
    importlib.import_module(_module)

st.set_page_config(
    page_title="Switchover",
    page_icon=":material/swap_horiz:",
    layout="wide",
    initial_sidebar_state="expanded",
)
theme.apply()

try:
    runtime.app()
except (SettingsError, SchemaError) as exc:
    st.error(str(exc))
    st.stop()
except OperationalError:
    st.error("The database cannot be reached; check SWITCHOVER_DATABASE_URL and the server.")
    st.stop()

viewer = auth.current_viewer()
if viewer is None:
    st.navigation(
        [st.Page(auth.sign_in_page, title="Sign in", url_path="sign-in")], position="hidden"
    ).run()
    st.stop()

page = st.navigation(
    [
        st.Page(VIEWS / "overview.py", title="Overview", icon=":material/insights:", default=True),
        st.Page(VIEWS / "organizations.py", title="Organizations", icon=":material/domain:"),
        st.Page(VIEWS / "campaigns.py", title="Campaigns", icon=":material/campaign:"),
        st.Page(VIEWS / "migration.py", title="Migration", icon=":material/swap_horiz:"),
        st.Page(VIEWS / "followup.py", title="Follow-up", icon=":material/call:"),
        st.Page(VIEWS / "helpdesk.py", title="Helpdesk", icon=":material/support_agent:"),
    ]
)
widgets.sidebar(viewer)
widgets.run_page(page)
