"""What a route needs from the request: the app context, a unit of work, the logged-in
organization, a checked form.

One database session per request, committed when the route returns without error — before the
response is sent (``scope="function"``), so a page never claims a change that failed to commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from db.models import Organization
from domain import legacy_login
from domain.context import App
from domain.legacy_login import session_fingerprint
from portal.security import CSRF_FIELD, csrf_valid, same_origin

# A log-in lasts a working day; after that the organization logs in again.
LOGIN_LIFETIME = dt.timedelta(hours=8)
SESSION_ORG = "org"
SESSION_FINGERPRINT = "fp"
SESSION_LOGGED_IN_AT = "at"
SESSION_ORG_LOCALE = "org_locale"
SESSION_LANG = "lang"
SESSION_ORG_LABEL = "org_label"
SESSION_ORG_LABEL_LOCAL = "org_label_local"


class LoginRequired(Exception):
    """The page needs a logged-in organization; the handler sends the visitor to log in."""


class Forbidden(Exception):
    """A POST failed its CSRF or same-origin check; `reason` says which, for the page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def context_of(request: Request) -> App:
    context: App = request.app.state.context
    return context


async def app_context(request: Request) -> App:
    # async: a plain attribute read, which as a sync dependency would be sent to a thread.
    return context_of(request)


AppContext = Annotated[App, Depends(app_context)]


def db_session(context: AppContext) -> Iterator[Session]:
    with context.unit_of_work() as session:
        yield session


DbSession = Annotated[Session, Depends(db_session, scope="function")]


def client_address(request: Request) -> str:
    # Behind a proxy, uvicorn's --proxy-headers (with --forwarded-allow-ips) rewrites client.
    return request.client.host if request.client else "unknown"


def trusted_origins(context: App) -> list[str]:
    return [str(context.settings.portal_base_url)]


async def checked_form(request: Request) -> None:
    """Every state-changing form: same origin, and the session's CSRF token echoed back."""
    if not same_origin(request, trusted_origins(context_of(request))):
        raise Forbidden("origin")
    form = await request.form()  # cached on the request; the route's Form() fields reuse it
    if not csrf_valid(request, form.get(CSRF_FIELD)):
        raise Forbidden("csrf")


CheckedForm = Depends(checked_form)


def log_in(request: Request, organization: Organization, now: dt.datetime) -> None:
    """A fresh session for the organization (a new CSRF token: no fixation across log-ins)."""
    lang = request.session.get(SESSION_LANG)
    request.session.clear()
    if lang:
        request.session[SESSION_LANG] = lang
    request.session[SESSION_ORG] = organization.id
    request.session[SESSION_FINGERPRINT] = session_fingerprint(organization)
    request.session[SESSION_LOGGED_IN_AT] = now.timestamp()
    request.session[SESSION_ORG_LOCALE] = organization.locale.value
    request.session[SESSION_ORG_LABEL] = organization.name
    if organization.name_local:
        request.session[SESSION_ORG_LABEL_LOCAL] = organization.name_local


def log_out(request: Request) -> None:
    lang = request.session.get(SESSION_LANG)
    request.session.clear()
    if lang:
        request.session[SESSION_LANG] = lang


def logged_in_id(request: Request) -> int | None:
    value = request.session.get(SESSION_ORG)
    return value if isinstance(value, int) else None


def current_organization(request: Request, session: DbSession, context: AppContext) -> Organization:
    organization_id = logged_in_id(request)
    if organization_id is None:
        raise LoginRequired
    logged_in_at = request.session.get(SESSION_LOGGED_IN_AT)
    organization = session.get(Organization, organization_id)
    now = context.clock.now()
    expired = (
        not isinstance(logged_in_at, int | float)
        or now.timestamp() - logged_in_at > LOGIN_LIFETIME.total_seconds()
    )
    if (
        organization is None
        or expired
        or not legacy_login.usable(organization, now)
        or request.session.get(SESSION_FINGERPRINT) != session_fingerprint(organization)
    ):
        log_out(request)
        raise LoginRequired
    return organization


CurrentOrganization = Annotated[Organization, Depends(current_organization)]
