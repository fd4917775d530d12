"""Error pages in the visitor's language; never a stack trace, never a framework's default page.

The 500 handler runs outside the middleware stack (Starlette's outermost error middleware calls
it), so it renders without touching the database and adds the security headers itself. The
exception is still logged in full for operators.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from portal.deps import Forbidden, LoginRequired
from portal.i18n import N_
from portal.security import apply_headers
from portal.view import FlashRedirect, flash, redirect, render

log = logging.getLogger("switchover.portal")

_TITLES = {
    400: N_("The request could not be understood"),
    403: N_("This request was refused"),
    404: N_("Page not found"),
    405: N_("This page cannot be used that way"),
    410: N_("This page is no longer available"),
    413: N_("The request is too large"),
    429: N_("Too many requests"),
    500: N_("Something went wrong on our side"),
    503: N_("The service is briefly unavailable"),
}
_EXPLANATIONS = {
    400: N_("Please go back, check what you entered and try again."),
    403: N_("Please go back, reload the page and try again."),
    404: N_("The address may be mistyped, or the page may have moved."),
    405: N_("Please go back and use the buttons on the page."),
    410: N_("The address may be mistyped, or the page may have moved."),
    413: N_("Please shorten what you entered and try again."),
    429: N_("Please wait a few minutes and try again."),
    500: N_(
        "The error has been recorded. Please try again in a few minutes; if it keeps "
        "happening, contact the helpdesk."
    ),
    503: N_("Please try again in a few minutes."),
}


def error_page(request: Request, status: int, *, detail: str | None = None) -> Response:
    shown = status if status in _TITLES else (500 if status >= 500 else 400)
    return render(
        request,
        "error.html",
        {
            "status": status,
            "title_msgid": _TITLES[shown],
            "explanation_msgid": detail or _EXPLANATIONS[shown],
        },
        status_code=status,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    response = error_page(request, exc.status_code)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    # Forms are built by our own pages; a malformed one is a tampered or truncated request.
    return error_page(request, 400)


async def _login_required(request: Request, exc: Exception) -> Response:
    flash(request, "info", "Please log in with your organization's log-in ID and password.")
    return redirect(str(request.url_for("login_form")))


async def _forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Forbidden)
    detail = (
        N_(
            "This form has expired or was opened in another session. Please reload the page and "
            "submit it again."
        )
        if exc.reason == "csrf"
        else N_("This form was sent from another website. Please use the form on this site.")
    )
    return error_page(request, 403, detail=detail)


async def _flash_redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FlashRedirect)
    flash(request, exc.level, exc.message, **exc.variables)
    return redirect(exc.url)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    try:
        response = error_page(request, 500)
    except Exception:  # the error page itself failed: plain text, still no trace
        log.exception("the error page failed too")
        response = Response(
            "Something went wrong on our side. Please try again later.",
            status_code=500,
            media_type="text/plain; charset=utf-8",
        )
    https = str(request.app.state.settings.portal_base_url).startswith("https:")
    apply_headers(request, MutableHeaders(raw=response.raw_headers), https=https)
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(FlashRedirect, _flash_redirect)
    app.add_exception_handler(Exception, _server_error)
