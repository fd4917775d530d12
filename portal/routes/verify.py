"""Where emailed verification links land.

GET only shows what the link is for, with a Confirm button: mail gateways open links before
people do, and a GET that consumed the token would verify nothing for exactly the customers we
serve. POST confirms (idempotently). There is no session to protect here — the token is the
secret — but a POST that a browser says comes from another site is refused.

Pages for links that are expired, withdrawn or unknown name no person and no organization.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from db.models import Organization, Registration
from domain.context import App
from domain.verification import LinkState, LinkView, confirm, inspect
from portal.deps import AppContext, DbSession, Forbidden, client_address, trusted_origins
from portal.security import same_origin
from portal.view import render

router = APIRouter()

_STATUS = {
    LinkState.VALID: 200,
    LinkState.ALREADY_VERIFIED: 200,
    LinkState.EXPIRED: 410,
    LinkState.WITHDRAWN: 410,
    LinkState.UNKNOWN: 404,
}


def _organization_locale(request: Request, session: Session, view: LinkView) -> None:
    """The page speaks the organization's language unless the visitor chose another."""
    if view.registration_id is None:
        return
    registration = session.get(Registration, view.registration_id)  # already loaded: no query
    if registration is not None:
        organization = session.get(Organization, registration.organization_id)
        if organization is not None:
            request.state.preferred_locale = organization.locale


def _page(request: Request, context: App, view: LinkView, *, confirmed: bool = False) -> Response:
    state = "confirmed" if confirmed else view.state.value
    return render(
        request,
        "verify.html",
        {
            "state": state,
            "view": view,
            "token_path": request.url.path,
            "switch_on": context.settings.switch_date,
        },
        status_code=_STATUS[view.state],
    )


@router.get("/verify/{token}", name="verify_link")
def show_link(request: Request, token: str, session: DbSession, context: AppContext) -> Response:
    view = inspect(session, context.clock, token)
    _organization_locale(request, session, view)
    return _page(request, context, view)


@router.post("/verify/{token}", name="confirm_link")
def confirm_link(request: Request, token: str, session: DbSession, context: AppContext) -> Response:
    if not same_origin(request, trusted_origins(context)):
        raise Forbidden("origin")
    view = confirm(session, context.clock, token, client=client_address(request))
    _organization_locale(request, session, view)
    return _page(request, context, view, confirmed=view.confirmed_now)
