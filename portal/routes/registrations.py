"""The pre-registration page: an organization's people, adding one, resending, withdrawing.

Submitting records the registration AND issues its verification link in the same transaction,
so the email is queued the moment the organization presses the button (the verification-dispatch
flow still covers any registration left without a live link).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.enums import RegistrationStatus, Role
from db.models import Organization, Registration, VerificationToken
from domain import registration as registrations
from domain.context import App
from domain.migration import runs
from domain.organizations import display_name
from domain.registration import DuplicateRegistration, RegistrationError, WindowClosed
from domain.resend import ResendRefused, resend
from domain.verification import issue_link
from portal.deps import AppContext, CheckedForm, CurrentOrganization, DbSession
from portal.registration_form import (
    PERMISSION_ROWS,
    ROLE_TEXT,
    RegistrationForm,
    check,
    clean_name,
    permission_mark,
)
from portal.view import FlashRedirect, flash, redirect, render, request_locale, translator

router = APIRouter()

STATUS_ORDER = tuple(RegistrationStatus)


def _actor(organization: Organization) -> str:
    return f"org:{organization.legacy_login_id}"


def _last_links(session: Session, organization_id: int) -> dict[int, dt.datetime]:
    """When each registration's latest link was issued (shown as "link sent …")."""
    rows = session.execute(
        select(VerificationToken.registration_id, func.max(VerificationToken.created_at))
        .join(Registration, Registration.id == VerificationToken.registration_id)
        .where(Registration.organization_id == organization_id)
        .group_by(VerificationToken.registration_id)
    ).all()
    return {reg_id: last for reg_id, last in rows if reg_id is not None}


def _page(
    request: Request,
    session: Session,
    context: App,
    organization: Organization,
    form: RegistrationForm,
    *,
    status_code: int = 200,
) -> Response:
    rows = registrations.for_organization(session, organization.id)
    locale = request_locale(request)
    shown_name = display_name(organization, locale)
    counts = Counter(r.status for r in rows)
    now = context.clock.now()
    return render(
        request,
        "registrations.html",
        {
            "organization": organization,
            "organization_name": shown_name,
            # The other name (English or Japanese), under the heading, when there is one.
            "organization_other_name": next(
                (n for n in (organization.name, organization.name_local) if n and n != shown_name),
                None,
            ),
            "registrations": rows,
            "counts": [(status, counts[status]) for status in STATUS_ORDER if counts[status]],
            "last_links": _last_links(session, organization.id),
            "ready": registrations.has_verified_administrator(session, organization.id),
            "legacy_expires_at": organization.legacy_login_expires_at,
            "frozen": runs.is_frozen(session),
            "days_left": context.calendar.days_until_close(now),
            "form": form,
            "roles": [(role, *ROLE_TEXT[role]) for role in Role],
            "permission_rows": [
                (label, [permission_mark(actions, role) for role in Role])
                for label, actions in PERMISSION_ROWS
            ],
            "known_domains": registrations.known_domains(session, organization.id),
        },
        status_code=status_code,
    )


@router.get("/registrations", name="registrations")
def registrations_page(
    request: Request, session: DbSession, context: AppContext, organization: CurrentOrganization
) -> Response:
    return _page(request, session, context, organization, RegistrationForm(role=Role.NORMAL.value))


@router.post("/registrations", name="add_registration", dependencies=[CheckedForm])
def add_registration(
    request: Request,
    session: DbSession,
    context: AppContext,
    organization: CurrentOrganization,
    name: Annotated[str, Form(max_length=1000)] = "",
    email: Annotated[str, Form(max_length=1000)] = "",
    role: Annotated[str, Form(max_length=40)] = "",
    confirmed_email: Annotated[str, Form(max_length=1000)] = "",
    use_suggestion: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    words = translator(request)
    back = str(request.url_for("registrations"))
    if not context.calendar.is_open(context.clock.now()) or runs.is_frozen(session):
        flash(request, "error", "Pre-registration is not open, so no one can be added now.")
        return redirect(back)
    form = RegistrationForm(name=name, email=use_suggestion or email, role=role)
    address = check(
        form,
        words,
        known_domains=registrations.known_domains(session, organization.id),
        confirmed_email=confirmed_email,
    )
    if address is None:
        status = 422 if form.errors else 200
        return _page(request, session, context, organization, form, status_code=status)
    try:
        submitted = registrations.submit(
            session,
            context.clock,
            context.calendar,
            organization=organization,
            name=clean_name(form.name),
            email=address.display,
            role=form.role,
            submitted_by=_actor(organization),
        )
        issue_link(
            session,
            context.clock,
            context.settings,
            submitted.registration,
            template="verification",
            actor=_actor(organization),
        )
    except DuplicateRegistration:
        form.errors["email"] = words.gettext(
            "%(address)s is already registered for your organization. Each person needs to "
            "be registered only once.",
            address=address.normalized,
        )
        return _page(request, session, context, organization, form, status_code=422)
    except WindowClosed:
        flash(request, "error", "Pre-registration is not open, so no one can be added now.")
        return redirect(back)
    except RegistrationError as exc:
        field = exc.field if exc.field in ("name", "email", "role") else "email"
        form.errors[field] = str(exc)
        return _page(request, session, context, organization, form, status_code=422)
    except IntegrityError:
        # The same address submitted twice at once: the unique index let one through.
        raise FlashRedirect(
            back,
            "error",
            "%(address)s is already registered for your organization.",
            address=address.normalized,
        ) from None
    registration = submitted.registration
    flash(
        request,
        "success",
        "%(name)s has been registered. We have sent a verification email to %(address)s; "
        "the link in it must be opened to complete the registration.",
        name=registration.name,
        address=registration.email_display,
    )
    if submitted.also_registered_elsewhere:
        flash(
            request,
            "info",
            "%(address)s is also registered by another organization. That is fine: the person "
            "will have one log-in and access to both organizations.",
            address=registration.email_display,
        )
    return redirect(f"{back}#registration-{registration.id}")


def _own_registration(
    session: Session, organization: Organization, registration_id: int
) -> Registration:
    registration = session.get(Registration, registration_id)
    # Another organization's registration is "not found", not "forbidden": ids are not hints.
    if registration is None or registration.organization_id != organization.id:
        raise HTTPException(status_code=404)
    return registration


def _changes_allowed(request: Request, context: App, session: Session) -> bool:
    if runs.is_frozen(session) and context.calendar.phase(context.clock.now()) != "switched":
        flash(
            request,
            "error",
            "Pre-registration is closed: the switch to individual log-ins has started. "
            "Please contact the helpdesk.",
        )
        return False
    if context.calendar.phase(context.clock.now()) == "switched":
        flash(
            request,
            "error",
            "The switch to individual log-ins has taken place; registrations can no longer be "
            "changed here. Please contact the helpdesk.",
        )
        return False
    return True


@router.post(
    "/registrations/{registration_id}/resend", name="resend_link", dependencies=[CheckedForm]
)
def resend_link(
    request: Request,
    registration_id: int,
    session: DbSession,
    context: AppContext,
    organization: CurrentOrganization,
) -> Response:
    registration = _own_registration(session, organization, registration_id)
    anchor = f"{request.url_for('registrations')}#registration-{registration.id}"
    if not _changes_allowed(request, context, session):
        return redirect(anchor)
    try:
        resend(session, context.clock, context.settings, registration, actor=_actor(organization))
    except ResendRefused as refused:
        if refused.reason == "status":
            flash(request, "error", "A link can only be resent while the registration is pending.")
        elif refused.reason == "too_soon":
            flash(
                request,
                "warning",
                "A link was sent to %(address)s a few minutes ago. Please allow some time for it "
                "to arrive (and check the spam folder); you can send another in %(minutes)d min.",
                address=registration.email_display,
                minutes=refused.retry_after_minutes,
            )
        else:
            flash(
                request,
                "warning",
                "The verification email has been resent to %(address)s five times today. Please "
                "check the address, or try again in %(minutes)d min.",
                address=registration.email_display,
                minutes=refused.retry_after_minutes,
            )
        return redirect(anchor)
    flash(
        request,
        "success",
        "A new verification email is on its way to %(address)s. Earlier links no longer work.",
        address=registration.email_display,
    )
    return redirect(anchor)


@router.post(
    "/registrations/{registration_id}/withdraw", name="withdraw", dependencies=[CheckedForm]
)
def withdraw(
    request: Request,
    registration_id: int,
    session: DbSession,
    context: AppContext,
    organization: CurrentOrganization,
) -> Response:
    registration = _own_registration(session, organization, registration_id)
    back = str(request.url_for("registrations"))
    if not _changes_allowed(request, context, session):
        return redirect(back)
    try:
        registrations.withdraw(
            session, context.clock, registration=registration, actor=_actor(organization)
        )
    except RegistrationError:
        flash(request, "error", "Only a registration that is not yet verified can be withdrawn.")
        return redirect(back)
    flash(
        request,
        "success",
        "The registration of %(address)s has been withdrawn; its link no longer works.",
        address=registration.email_display,
    )
    return redirect(back)
