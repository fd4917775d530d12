"""Simulated people using the real portal over HTTP (its ASGI app in process, no sockets).

Every action goes through the routes a browser would use — the log-in form with its CSRF
token, the registration form with its warnings and "submit anyway", the emailed link's GET
page and its POST, the contact form — so the simulation exercises the portal's rules, throttles
and transactions, not a shortcut around them. Each organization and person comes from its own
client address (`ClientAddresses`), as real people do; otherwise the per-address throttles
would see one very busy visitor.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from domain.context import App
from portal.app import create_app

CLIENT_HEADER = "x-simulation-client"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_STATE = re.compile(r"verify-card verify-([a-z_]+)")
_CONFIRM = re.compile(r'name="confirmed_email" value="([^"]*)"')
_SUGGESTION = re.compile(r'name="use_suggestion" value="([^"]*)"')
_REGISTRATION = re.compile(r"#registration-(\d+)$")
_REFERENCE = re.compile(r'class="reference">([^<]+)<')


class ClientAddresses:
    """ASGI wrapper: the client address of a request is the one its simulated person has."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope.get("headers", ()):
                if name == CLIENT_HEADER.encode():
                    scope = dict(scope, client=(value.decode("latin-1"), 0))
                    break
        await self.app(scope, receive, send)


class PortalError(RuntimeError):
    """The portal answered something a browser would not expect; the simulation stops."""


@dataclass(frozen=True)
class Submitted:
    email: str
    outcome: str  # registered | duplicate | refused | closed | warned (not confirmed)
    registration_id: int | None = None
    used_suggestion: bool = False


class Browser:
    """An HTTP client driving the portal's ASGI app on an event loop of this thread.

    httpx's ASGI transport on a loop the simulator runs itself, rather than Starlette's test
    client: that one runs the app on another thread and crosses over for every ASGI message,
    which at tens of thousands of requests is most of the cost.
    """

    def __init__(self, app: App) -> None:
        base = str(app.settings.portal_base_url).rstrip("/")
        transport = httpx.ASGITransport(app=ClientAddresses(create_app(context=app)))
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(transport=transport, base_url=base)
        self.requests: Counter[str] = Counter()
        self._token: str | None = None

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()

    def _send(self, method: str, path: str, who: str, what: str, **kwargs: Any) -> httpx.Response:
        self.requests[what] += 1
        headers = {CLIENT_HEADER: who}
        response: httpx.Response = self.loop.run_until_complete(
            self.client.request(method, path, headers=headers, follow_redirects=False, **kwargs)
        )
        if response.status_code >= 500:
            raise PortalError(f"{method} {path} answered {response.status_code}")
        return response

    def _session_token(self, who: str) -> str:
        """The CSRF token of the logged-in session: read once from the registrations page (as
        a person who stays on that page and submits its form several times)."""
        if self._token is None:
            self._token = self._csrf("/registrations", who, "registrations page")
        return self._token

    def _csrf(self, path: str, who: str, what: str) -> str:
        page = self._send("GET", path, who, what)
        found = _CSRF.search(page.text)
        if page.status_code != 200 or not found:
            raise PortalError(f"GET {path} answered {page.status_code} without a form")
        return found[1]

    def log_in(self, login_id: str, password: str, who: str) -> str:
        """Logs in with a fresh session; 'ok', 'disabled' (after the switch) or 'invalid'."""
        self.client.cookies.clear()
        self._token = None
        token = self._csrf("/login", who, "log-in page")
        answer = self._send(
            "POST",
            "/login",
            who,
            "log-in",
            data={"csrf_token": token, "login_id": login_id, "password": password},
        )
        if answer.status_code == 303:
            return "ok"
        if answer.status_code == 200 and 'id="disabled-title"' in answer.text:
            return "disabled"
        return "invalid"

    def register(
        self, who: str, name: str, email: str, role: str, *, take_suggestion: bool
    ) -> Submitted:
        """Adds one person on the registration page (logged in), answering its warnings."""
        token = self._session_token(who)
        data = {"csrf_token": token, "name": name, "email": email, "role": role}
        answer = self._send("POST", "/registrations", who, "register a person", data=data)
        used_suggestion = False
        if answer.status_code == 200:
            suggestion = _SUGGESTION.search(answer.text)
            confirm = _CONFIRM.search(answer.text)
            if take_suggestion and suggestion:
                data["use_suggestion"] = suggestion[1]
                used_suggestion = True
            elif confirm:
                data["confirmed_email"] = confirm[1]
            else:
                return Submitted(email, "warned")
            answer = self._send("POST", "/registrations", who, "register a person", data=data)
        if answer.status_code == 303:
            location = answer.headers.get("location", "")
            found = _REGISTRATION.search(location)
            if found:
                return Submitted(email, "registered", int(found[1]), used_suggestion)
            return Submitted(email, "closed")  # redirected without a registration: not open
        if answer.status_code == 422 and "already registered" in answer.text:
            return Submitted(email, "duplicate")
        return Submitted(email, "refused")

    def resend(self, who: str, registration_id: int) -> bool:
        token = self._session_token(who)
        answer = self._send(
            "POST",
            f"/registrations/{registration_id}/resend",
            who,
            "resend a link",
            data={"csrf_token": token},
        )
        return answer.status_code == 303

    def open_link(self, token: str, who: str, *, scanner: bool = False) -> str:
        """GET the emailed link: the page's state (valid, already_verified, expired, …)."""
        answer = self._send(
            "GET", f"/verify/{token}", who, "link scanned" if scanner else "link opened"
        )
        found = _STATE.search(answer.text)
        return found[1] if found else f"http-{answer.status_code}"

    def confirm_link(self, token: str, who: str) -> str:
        answer = self._send("POST", f"/verify/{token}", who, "link confirmed")
        found = _STATE.search(answer.text)
        return found[1] if found else f"http-{answer.status_code}"

    def contact(
        self, who: str, *, name: str, email: str, organization: str, category: str, message: str
    ) -> str | None:
        """The contact form; the reference number it shows, or None if refused."""
        self.client.cookies.clear()
        self._token = None
        token = self._csrf("/contact", who, "contact page")
        answer = self._send(
            "POST",
            "/contact",
            who,
            "contact form",
            data={
                "csrf_token": token,
                "name": name,
                "email": email,
                "organization": organization,
                "category": category,
                "message": message,
            },
        )
        if answer.status_code != 303:
            return None
        thanks = self._send("GET", "/contact/sent", who, "contact sent page")
        found = _REFERENCE.search(thanks.text)
        return found[1] if found else None
