"""The individual log-in: email and password, the activation link, the invitation link.

Activation and invitation links behave like verification links: GET shows what the link is for
and consumes nothing (mail gateways open links), POST sets the password (and accepts the
invitation) once. The token is the secret, so those POSTs need no session, but a POST that a
browser says comes from another site is refused. After either, the person is logged in.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from db.models import Person
from domain.accounts import activation, invitations, login
from domain.accounts.password_rules import Verdict
from portal.deps import AppContext, CheckedForm, DbSession, Forbidden, client_address
from portal.deps import trusted_origins as _trusted
from portal.i18n import N_, Translator
from portal.person_session import log_in_person
from portal.security import same_origin
from portal.view import flash, redirect, render, translator

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
    view: activation.ActivationView | invitations.InvitationView,
    errors: list[str],
    *,
    status: int | None = None,
) -> Response:
    """The page behind an emailed single-use link (activation or invitation): set a password."""
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
