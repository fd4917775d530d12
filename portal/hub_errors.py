"""How the Customer Hub answers a visitor who is not logged in, or not allowed."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from domain.roles import PermissionDenied
from portal.errors import error_page
from portal.i18n import N_
from portal.person_session import PersonLoginRequired, Refused
from portal.view import flash, redirect

REFUSED = N_(
    "Your account type in this organization does not allow this. Ask an Administrator of the "
    "organization."
)


async def _login_required(request: Request, exc: Exception) -> Response:
    flash(request, "info", "Please log in with your email address and password.")
    return redirect(str(request.url_for("account_login")))


async def _refused(request: Request, exc: Exception) -> Response:
    return error_page(request, 403, detail=REFUSED)


def install(app: FastAPI) -> None:
    app.add_exception_handler(PersonLoginRequired, _login_required)
    app.add_exception_handler(Refused, _refused)
    # The domain checks the matrix again behind every form; its refusal reads the same.
    app.add_exception_handler(PermissionDenied, _refused)
