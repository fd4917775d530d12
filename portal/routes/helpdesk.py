"""The helpdesk's contact page: its details (content/…/contact.md) and the contact form.

Against spam: a honeypot field people never see (a bot that fills it is thanked and ignored),
the CSRF token (a bot must load the page first), and limits per client address and per email
address, counted in the database.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from db.enums import HelpdeskCategory
from domain import helpdesk, throttle
from domain.addresses import InvalidAddress, normalize, parse
from portal.deps import AppContext, CheckedForm, DbSession, client_address
from portal.i18n import N_, Translator
from portal.view import redirect, render, request_locale, translator

router = APIRouter()

PER_CLIENT = throttle.Limit("contact_ip", 10, dt.timedelta(hours=1))
PER_EMAIL = throttle.Limit("contact_email", 5, dt.timedelta(hours=1))
HONEYPOT = "website"
SESSION_REFERENCE = "helpdesk_reference"

CATEGORY_TEXT = {
    HelpdeskCategory.CANNOT_LOG_IN: N_("I cannot log in"),
    HelpdeskCategory.EMAIL_NOT_RECEIVED: N_("The verification email did not arrive"),
    HelpdeskCategory.LINK_EXPIRED: N_("The verification link has expired or does not work"),
    HelpdeskCategory.WRONG_ORGANIZATION: N_("I was registered for the wrong organization"),
    HelpdeskCategory.ADD_OR_REMOVE_USER: N_("Adding, changing or removing a user"),
    HelpdeskCategory.OTHER: N_("Something else"),
}


def _page(
    request: Request,
    context: AppContext,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    status_code: int = 200,
) -> Response:
    locale = request_locale(request)
    return render(
        request,
        "contact.html",
        {
            "page": request.app.state.content.page("contact", locale),
            "values": values,
            "errors": errors,
            "categories": list(CATEGORY_TEXT.items()),
            "honeypot": HONEYPOT,
            "max_message": helpdesk.MAX_MESSAGE_LENGTH,
        },
        status_code=status_code,
    )


def _form_errors(values: dict[str, str], words: Translator) -> dict[str, str]:
    """Every field's problem at once (domain.helpdesk re-checks what it stores)."""
    errors: dict[str, str] = {}
    if not values["name"].strip():
        errors["name"] = words.gettext("Enter your name.")
    if not values["email"].strip():
        errors["email"] = words.gettext("Enter your email address so that we can reply.")
    else:
        try:
            parse(values["email"])
        except InvalidAddress as exc:
            errors["email"] = words.gettext(
                "Enter a valid email address so that we can reply: %(reason)s", reason=str(exc)
            )
    if values["category"] not in {category.value for category in HelpdeskCategory}:
        errors["category"] = words.gettext("Choose what your request is about.")
    text = values["message"].strip()
    if not text:
        errors["message"] = words.gettext("Write your message.")
    elif len(text) > helpdesk.MAX_MESSAGE_LENGTH:
        errors["message"] = words.gettext(
            "The message is too long (at most %(max)d characters).",
            max=helpdesk.MAX_MESSAGE_LENGTH,
        )
    return errors


@router.get("/contact", name="contact")
def contact_page(request: Request, context: AppContext) -> Response:
    values = {"name": "", "email": "", "organization": "", "category": "", "message": ""}
    return _page(request, context, values, {})


@router.post("/contact", name="send_contact", dependencies=[CheckedForm])
def send_contact(
    request: Request,
    session: DbSession,
    context: AppContext,
    name: Annotated[str, Form(max_length=1000)] = "",
    email: Annotated[str, Form(max_length=1000)] = "",
    organization: Annotated[str, Form(max_length=1000)] = "",
    category: Annotated[str, Form(max_length=100)] = "",
    message: Annotated[str, Form(max_length=50_000)] = "",
    website: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    values = {
        "name": name,
        "email": email,
        "organization": organization,
        "category": category,
        "message": message,
    }
    thanks = str(request.url_for("contact_sent"))
    if website.strip():
        # A bot filled the field people cannot see: it gets the same answer and nothing is kept.
        request.session[SESSION_REFERENCE] = None
        return redirect(thanks)
    words = translator(request)
    errors = _form_errors(values, words)
    if errors:
        return _page(request, context, values, errors, status_code=422)
    keys = [(PER_CLIENT, client_address(request)), (PER_EMAIL, normalize(email))]
    throttle.prune(session, context.clock)
    for limit, key in keys:
        if not throttle.check(session, context.clock, limit, key).allowed:
            errors = {
                "form": words.gettext(
                    "We have received several messages from you within the last hour. Please "
                    "wait a little before sending another, or write to %(email)s.",
                    email=str(context.settings.helpdesk_email),
                )
            }
            return _page(request, context, values, errors, status_code=429)
    contact = helpdesk.record_contact(
        session,
        context.clock,
        name=name,
        email=email,
        organization_name=organization,
        category=category,
        message=message,
    )
    for limit, key in keys:
        throttle.record(session, context.clock, limit.bucket, key)
    reference = helpdesk.acknowledge(
        session, context.clock, context.settings, contact, locale=request_locale(request)
    )
    request.session[SESSION_REFERENCE] = reference
    return redirect(thanks)


@router.get("/contact/sent", name="contact_sent")
def contact_sent(request: Request, context: AppContext) -> Response:
    if SESSION_REFERENCE not in request.session:
        return redirect(str(request.url_for("contact")))
    reference: Any = request.session.pop(SESSION_REFERENCE)
    return render(
        request,
        "contact_sent.html",
        {
            "reference": reference if isinstance(reference, str) else None,
            "response_business_days": context.settings.helpdesk_response_business_days,
        },
    )
