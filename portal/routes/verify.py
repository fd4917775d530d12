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

from domain.context import App
from domain.verification import LinkState, LinkView, confirm, inspect
from portal.deps import AppContext, Forbidden, client_address, trusted_origins
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


def _page(
    request: Request,
    context: App,
    view: LinkView,
    *,
    confirmed: bool = False,
) -> Response:
    if view.locale is not None:  # the organization's language, unless the visitor chose another
        request.state.preferred_locale = view.locale
    return render(
        request,
        "verify.html",
        {
            "state": "confirmed" if confirmed else view.state.value,
            "view": view,
            "token_path": request.url.path,
            "switch_on": context.settings.switch_date,
        },
        status_code=_STATUS[view.state],
    )


# These two routes hold their own unit of work instead of the request-scoped session: the
# transaction commits before the page is rendered, so a confirmation holds its locks (on SQLite,
# the database's single write lock) for the database work only. This is the hottest path of the
# portal on the day a campaign goes out.


@router.get("/verify/{token}", name="verify_link")
def show_link(request: Request, token: str, context: AppContext) -> Response:
    with context.unit_of_work() as session:
        view = inspect(session, context.clock, token)
    return _page(request, context, view)


@router.post("/verify/{token}", name="confirm_link")
def confirm_link(request: Request, token: str, context: AppContext) -> Response:
    if not same_origin(request, trusted_origins(context)):
        raise Forbidden("origin")
    with request.app.state.write_gate, context.unit_of_work() as session:
        view = confirm(session, context.clock, token, client=client_address(request))
    return _page(request, context, view, confirmed=view.confirmed_now)
