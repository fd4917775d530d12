"""The individual log-in: email and password, the activation link, the invitation link, and
getting back in: "forgot your password" and the password-reset link.

Activation, invitation and reset links behave like verification links: GET shows what the link is
for and consumes nothing (mail gateways open links), POST sets the password (and accepts the
invitation) once. The token is the secret, so those POSTs need no session, but a POST that a
browser says comes from another site is refused. After any of them, the person is logged in.

The "forgot your password" form answers every address alike (`domain.accounts.recovery`).
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from db.models import Person
from domain.accounts import activation, invitations, login, recovery
from domain.accounts.password_rules import Verdict
from domain.addresses import InvalidAddress
from portal.deps import AppContext, CheckedForm, DbSession, Forbidden, client_address
from portal.deps import trusted_origins as _trusted
from portal.i18n import N_, Translator
from portal.person_session import log_in_person
from portal.security import same_origin
from portal.view import flash, redirect, render, request_locale, translator

router = APIRouter()

INVALID = N_(
    "The email address or the password is not correct. If you have not set your password yet, "
    "use the link in the email we sent you."
)
PROBLEMS = {
    "too_short": N_("Use at least %(min)d characters; a few words in a row are easy to remember."),
    "too_long": N_("Use at most %(max)d characters."),
    "common": N_("This password is too common: it appears in lists of leaked passwords."),
    "repetitive": N_("Avoid repeated characters or patterns."),
    "sequential": N_("Avoid sequences such as 12345 or qwerty."),
    "context": N_("Do not use your email address, your name or the portal's name."),
    "control": N_("The password contains an invisible control character."),
    "mismatch": N_("The two passwords are not the same."),
}
_LINK_STATUS = {
    "valid": 200,
    "already_active": 200,
    "accepted": 200,
    "expired": 410,
    "unknown": 404,
}


def password_errors(words: Translator, verdict: Verdict | None, min_length: int) -> list[str]:
    if verdict is None:
        return []
    return [
        words.gettext(PROBLEMS[p.value], min=min_length, max=128)
        if p.value in ("too_short", "too_long")
        else words.gettext(PROBLEMS[p.value])
        for p in verdict.problems
    ]


@router.get("/account/login", name="account_login")
def login_form(request: Request) -> Response:
    return render(request, "account/login.html", {"email": ""})


@router.post("/account/login", name="account_login_submit", dependencies=[CheckedForm])
def login_submit(
    request: Request,
    session: DbSession,
    context: AppContext,
    email: Annotated[str, Form(max_length=1000)] = "",
    password: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    result = login.authenticate(
        session, context.clock, email=email, password=password, client=client_address(request)
    )
    words = translator(request)
    if result.outcome is login.Outcome.OK:
        assert result.person is not None
        log_in_person(request, result.person, context.clock.now())
        return redirect(str(request.url_for("hub")))
    if result.outcome is login.Outcome.DISABLED:
        return render(request, "account/disabled.html", {}, status_code=403)
    if result.outcome is login.Outcome.THROTTLED:
        error = words.ngettext(
            "Too many unsuccessful log-ins. For your security, please wait %(num)d minute "
            "and try again.",
            "Too many unsuccessful log-ins. For your security, please wait %(num)d minutes "
            "and try again.",
            result.retry_after_minutes,
        )
        status = 429
    else:
        error, status = words.gettext(INVALID), 200
    return render(
        request,
        "account/login.html",
        {"email": login.normalize_email(email), "error": error},
        status_code=status,
    )


def _same_site(request: Request, context: AppContext) -> None:
    if not same_origin(request, _trusted(context)):
        raise Forbidden("origin")


@router.get("/activate/{token}", name="activate")
def activate_form(request: Request, token: str, context: AppContext) -> Response:
    with context.unit_of_work() as session:
        view = activation.inspect(session, context.clock, token)
    return _link_page(request, context, "account/activate.html", view, [])


@router.post("/activate/{token}", name="activate_submit")
def activate_submit(
    request: Request,
    token: str,
    context: AppContext,
    password: Annotated[str, Form(max_length=2000)] = "",
    confirmation: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    _same_site(request, context)
    with context.unit_of_work() as session:
        result = activation.activate(
            session,
            context.clock,
            context.settings,
            token,
            password=password,
            confirmation=confirmation,
            client=client_address(request),
        )
        person = session.get(Person, result.view.person_id) if result.activated_now else None
        if person is not None:
            log_in_person(request, person, context.clock.now())
    if result.activated_now:
        flash(request, "success", "Your password is set. Welcome to the Customer Hub.")
        return redirect(str(request.url_for("hub")))
    errors = password_errors(
        translator(request), result.verdict, context.settings.password_min_length
    )
    return _link_page(
        request,
        context,
        "account/activate.html",
        result.view,
        errors,
        status=422 if errors else None,
    )


def _link_page(
    request: Request,
    context: AppContext,
    template: str,
    view: activation.ActivationView | invitations.InvitationView | recovery.ResetView,
    errors: list[str],
    *,
    status: int | None = None,
) -> Response:
    """The page behind an emailed single-use link (activation, invitation, reset): a password."""
    return render(
        request,
        template,
        {
            "view": view,
            "state": view.state.value,
            "errors": errors,
            "min_length": context.settings.password_min_length,
            "token_path": request.url.path,
        },
        status_code=status or _LINK_STATUS[view.state.value],
    )


@router.get("/invitation/{token}", name="invitation")
def invitation_form(request: Request, token: str, context: AppContext) -> Response:
    with context.unit_of_work() as session:
        view = invitations.inspect(session, context.clock, token)
    return _link_page(request, context, "account/invitation.html", view, [])


@router.post("/invitation/{token}", name="invitation_submit")
def invitation_submit(
    request: Request,
    token: str,
    context: AppContext,
    password: Annotated[str, Form(max_length=2000)] = "",
    confirmation: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    _same_site(request, context)
    with context.unit_of_work() as session:
        result = invitations.accept(
            session,
            context.clock,
            context.settings,
            token,
            password=password,
            confirmation=confirmation,
            client=client_address(request),
        )
        if result.accepted_now and result.person is not None and result.view.needs_password:
            log_in_person(request, result.person, context.clock.now())
    if result.accepted_now:
        if result.view.needs_password:
            flash(
                request,
                "success",
                "Welcome: you have joined %(organization)s.",
                organization=result.view.organization_name or "",
            )
            return redirect(str(request.url_for("hub")))
        flash(
            request,
            "success",
            "You have joined %(organization)s. Log in with your email address and password.",
            organization=result.view.organization_name or "",
        )
        return redirect(str(request.url_for("account_login")))
    errors = password_errors(
        translator(request), result.verdict, context.settings.password_min_length
    )
    return _link_page(
        request,
        context,
        "account/invitation.html",
        result.view,
        errors,
        status=422 if errors else None,
    )


SESSION_RECOVERY = "recovery_email"


def _recover_page(
    request: Request, email: str, errors: dict[str, str], error: str | None, status: int
) -> Response:
    return render(
        request,
        "account/recover.html",
        {"email": email, "errors": errors, "error": error},
        status_code=status,
    )


@router.get("/account/recover", name="account_recover")
def recover_form(request: Request) -> Response:
    return _recover_page(request, "", {}, None, 200)


@router.post("/account/recover", name="account_recover_submit", dependencies=[CheckedForm])
async def recover_submit(
    request: Request,
    context: AppContext,
    email: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """One answer for every address; only its mailbox learns whether there is an account.

    The answer also takes as long for every address: an address with an account costs a token,
    an email and their writes, so every accepted request is held to
    ``account_recovery_min_seconds`` — asleep on the event loop, not in a worker thread.
    """
    started = time.monotonic()
    words = translator(request)
    typed = email.strip()
    try:
        address = recovery.normalize_address(typed)
    except InvalidAddress:
        problem = (
            words.gettext("Enter the email address you log in with.")
            if not typed
            else words.gettext("This is not a valid email address. Check it and try again.")
        )
        return _recover_page(request, typed, {"email": problem}, None, 422)
    result = await run_in_threadpool(
        _request_link, request, context, address, client_address(request)
    )
    if result.outcome is recovery.Outcome.THROTTLED:
        error = words.ngettext(
            "You have asked for several links in a short time. For your security, please wait "
            "%(num)d minute and try again.",
            "You have asked for several links in a short time. For your security, please wait "
            "%(num)d minutes and try again.",
            result.retry_after_minutes,
        )
        return _recover_page(request, typed, {}, error, 429)
    remaining = context.settings.account_recovery_min_seconds - (time.monotonic() - started)
    if remaining > 0:
        await asyncio.sleep(remaining)
    request.session[SESSION_RECOVERY] = address
    return redirect(str(request.url_for("account_recover_sent")))


def _request_link(
    request: Request, context: AppContext, address: str, client: str
) -> recovery.RecoveryRequest:
    """The request in its own unit of work, committed before the answer is timed."""
    with request.app.state.write_gate, context.unit_of_work() as session:
        return recovery.request_link(
            session,
            context.clock,
            context.settings,
            email=address,
            client=client,
            locale=request_locale(request),
        )


@router.get("/account/recover/sent", name="account_recover_sent")
def recover_sent(request: Request) -> Response:
    address = request.session.get(SESSION_RECOVERY)
    if not isinstance(address, str):
        return redirect(str(request.url_for("account_recover")))
    return render(request, "account/recover_sent.html", {"email": address})


@router.get("/reset-password/{token}", name="reset_password")
def reset_form(request: Request, token: str, context: AppContext) -> Response:
    with context.unit_of_work() as session:
        view = recovery.inspect(session, context.clock, token)
    return _link_page(request, context, "account/reset.html", view, [])


@router.post("/reset-password/{token}", name="reset_password_submit")
def reset_submit(
    request: Request,
    token: str,
    context: AppContext,
    password: Annotated[str, Form(max_length=2000)] = "",
    confirmation: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    _same_site(request, context)
    with context.unit_of_work() as session:
        result = recovery.reset_password(
            session,
            context.clock,
            context.settings,
            token,
            password=password,
            confirmation=confirmation,
            client=client_address(request),
        )
        if result.reset_now and result.person is not None:
            # A fresh session with the new password's fingerprint; the others end.
            log_in_person(request, result.person, context.clock.now())
    if result.reset_now:
        flash(
            request,
            "success",
            "Your new password is set. You have been logged out on your other devices.",
        )
        return redirect(str(request.url_for("hub")))
    errors = password_errors(
        translator(request), result.verdict, context.settings.password_min_length
    )
    return _link_page(
        request,
        context,
        "account/reset.html",
        result.view,
        errors,
        status=422 if errors else None,
    )
