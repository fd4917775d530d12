"""The organization's log-in with its shared (legacy) ID and password, and log-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from domain import legacy_login
from domain.legacy_login import Outcome
from portal.deps import AppContext, CheckedForm, DbSession, client_address, log_in, log_out
from portal.i18n import N_
from portal.view import flash, redirect, render, translator

router = APIRouter()

INVALID = N_("The log-in ID or the password is not correct.")


@router.get("/login", name="login_form")
def login_form(request: Request) -> Response:
    return render(request, "login.html", {"login_id": ""})


@router.post("/login", name="login", dependencies=[CheckedForm])
def login(
    request: Request,
    session: DbSession,
    context: AppContext,
    login_id: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    result = legacy_login.authenticate(
        session,
        context.clock,
        login_id=login_id,
        password=password,
        client=client_address(request),
    )
    words = translator(request)
    if result.outcome is Outcome.OK:
        assert result.organization is not None
        log_in(request, result.organization, context.clock.now())
        return redirect(str(request.url_for("registrations")))
    if result.outcome is Outcome.DISABLED:
        assert result.organization is not None
        return render(request, "legacy_disabled.html", {"organization": result.organization})
    if result.outcome is Outcome.THROTTLED:
        error = words.ngettext(
            "Too many unsuccessful log-ins. For your security, please wait %(num)d minute "
            "and try again.",
            "Too many unsuccessful log-ins. For your security, please wait %(num)d minutes "
            "and try again.",
            result.retry_after_minutes,
        )
        status = 429
    else:
        error = words.gettext(INVALID)
        status = 200
    return render(
        request,
        "login.html",
        {"login_id": legacy_login.normalize_login_id(login_id), "error": error},
        status_code=status,
    )


@router.post("/logout", name="logout", dependencies=[CheckedForm])
def logout(request: Request) -> Response:
    log_out(request)
    flash(request, "info", "You have logged out.")
    return redirect(str(request.url_for("home")))
