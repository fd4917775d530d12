"""Who may look: nothing of the dashboard renders before its viewer has signed in.

With OIDC configured (an ``[auth]`` section in .streamlit/secrets.toml) sign-in goes through the
identity provider with `st.login`. Otherwise one password from settings
(SWITCHOVER_DASHBOARD_PASSWORD) opens it, and the viewer gives their name, which the audit trail
records next to every change they make. Failed attempts are counted in the database per client
address and overall, so guessing is slow even across several dashboard processes.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass

import streamlit as st

from dashboard import runtime
from dashboard.launch import password_problem
from domain import throttle

SESSION_KEY = "switchover_viewer"  # the signed-in viewer's name, in the server-side session
MAX_NAME_LENGTH = 100
PER_ADDRESS = throttle.Limit("dashboard_login", 10, dt.timedelta(minutes=15))
OVERALL = throttle.Limit("dashboard_login_all", 100, dt.timedelta(minutes=15))
_EVERYONE = "*"


@dataclass(frozen=True)
class Viewer:
    name: str  # as the audit trail shows it: an email with OIDC, the given name otherwise
    via: str  # "oidc" | "password"

    @property
    def actor(self) -> str:
        return f"agent:{self.name}"


def oidc_configured() -> bool:
    if not st.secrets.load_if_toml_exists():
        return False
    return "auth" in st.secrets


def current_viewer() -> Viewer | None:
    if oidc_configured():
        if not st.user.is_logged_in:
            return None
        name = st.user.get("email") or st.user.get("name") or st.user.get("sub")
        return Viewer(str(name or "unknown"), "oidc")
    name = st.session_state.get(SESSION_KEY)
    return Viewer(str(name), "password") if name else None


def sign_out() -> None:
    if oidc_configured():
        st.logout()
    else:
        st.session_state.pop(SESSION_KEY, None)
        st.rerun()


def sign_in_page() -> None:
    """The only page a viewer who has not signed in can reach."""
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("Switchover dashboard")
        st.caption("Pre-registration and login migration, for the people running them.")
        if oidc_configured():
            st.write("Sign in with your organization's account to continue.")
            if st.button("Sign in", type="primary"):
                st.login()
            return
        configured = runtime.settings().dashboard_password
        problem = password_problem(configured.get_secret_value() if configured else None)
        if problem:
            st.error(problem[0].upper() + problem[1:] + ", then start the dashboard again.")
            return
        with st.form("sign_in", enter_to_submit=True):
            name = st.text_input(
                "Your name", max_chars=MAX_NAME_LENGTH, help="Recorded with every change you make."
            )
            password = st.text_input("Password", type="password")
            submitted = st.form_submit_button("Sign in", type="primary")
        if submitted:
            message = _try_password(name, password)
            if message is None:
                st.rerun()
            st.error(message)


def _try_password(name: str, password: str) -> str | None:
    """None when signed in; otherwise what to tell the viewer."""
    configured = runtime.settings().dashboard_password
    assert configured is not None
    peer = st.context.ip_address  # the connection's own address (None on localhost)
    address = peer if isinstance(peer, str) and peer else "local"
    app = runtime.app()
    with app.unit_of_work() as session:
        for limit, key in ((PER_ADDRESS, address), (OVERALL, _EVERYONE)):
            verdict = throttle.check(session, app.clock, limit, key)
            if not verdict.allowed:
                return (
                    f"Too many wrong passwords. Try again in {verdict.retry_after_minutes} minutes."
                )
        clean_name = " ".join(name.split())
        if not clean_name:
            return "Enter your name: it is recorded with the changes you make."
        if not hmac.compare_digest(
            password.encode("utf-8"), configured.get_secret_value().encode("utf-8")
        ):
            throttle.record(session, app.clock, PER_ADDRESS.bucket, address)
            throttle.record(session, app.clock, OVERALL.bucket, _EVERYONE)
            return "That password is not right."
        throttle.clear(session, PER_ADDRESS.bucket, address)
    st.session_state[SESSION_KEY] = clean_name
    return None
