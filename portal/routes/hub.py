"""The Customer Hub: a person's organizations, their services and history, and their users.

Every page and every form is checked against the announcement's permission matrix
(`domain.roles`, through `portal.person_session.require`), and the domain functions behind the
forms check it again: Administrators invite, edit and remove users and apply for new services;
every user edits their own information; everyone logs in to the Hub and to the NK services.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select

from db.enums import Locale
from db.models import Organization, Person, Service, ServiceSubscription, ServiceUsage
from domain.accounts import hub, users
from domain.accounts.users import UserError
from domain.roles import Action
from portal.deps import AppContext, CheckedForm, DbSession
from portal.i18n import N_
from portal.person_session import CurrentPerson, require
from portal.user_errors import user_error
from portal.view import flash, redirect, render, request_locale, translator

router = APIRouter()
HISTORY_MONTHS = 24
APPLICATION_STATUS = {
    "submitted": N_("Submitted"),
    "approved": N_("Approved"),
    "declined": N_("Declined"),
}


def organization_or_404(session: DbSession, organization_id: int) -> Organization:
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise HTTPException(status_code=404)
    return organization


@router.get("/hub", name="hub")
def home(
    request: Request, session: DbSession, context: AppContext, person: CurrentPerson
) -> Response:
    today = context.calendar.local_date(context.clock.now())
    organizations = hub.organizations(session, person.id, today)
    return render(
        request,
        "hub/home.html",
        {
            "person": person,
            "organizations": [
                (org, hub.permissions(session, person.id, org.id)) for org in organizations
            ],
            "Action": Action,
            "locale": request_locale(request),
        },
    )


@router.get("/hub/organizations/{organization_id}/services/{service_id}", name="hub_service")
def service(
    request: Request,
    organization_id: int,
    service_id: int,
    session: DbSession,
    person: CurrentPerson,
) -> Response:
    actor = require(session, person, Action.LOG_IN_SERVICES, organization_id)
    organization = organization_or_404(session, organization_id)
    found = session.get(Service, service_id)
    history = session.execute(
        select(ServiceUsage.month, ServiceUsage.uses)
        .where(
            ServiceUsage.organization_id == organization_id, ServiceUsage.service_id == service_id
        )
        .order_by(ServiceUsage.month.desc())
        .limit(HISTORY_MONTHS)
    ).all()
    subscribed = session.scalar(
        select(ServiceSubscription.id).where(
            ServiceSubscription.organization_id == organization_id,
            ServiceSubscription.service_id == service_id,
        )
    )
    if found is None or subscribed is None:
        raise HTTPException(status_code=404)
    return render(
        request,
        "hub/service.html",
        {
            "organization": organization,
            "service": found,
            "history": history,
            "role": actor.role,
            "locale": request_locale(request),
        },
    )


@router.get("/hub/organizations/{organization_id}/apply", name="hub_apply")
def apply_form(
    request: Request, organization_id: int, session: DbSession, person: CurrentPerson
) -> Response:
    require(session, person, Action.APPLY_FOR_SERVICE, organization_id)
    return _apply_page(request, session, organization_id)


def _apply_page(
    request: Request, session: DbSession, organization_id: int, error: str | None = None
) -> Response:
    return render(
        request,
        "hub/apply.html",
        {
            "organization": organization_or_404(session, organization_id),
            "services": hub.applicable_services(session, organization_id),
            "applications": hub.applications(session, organization_id),
            "application_status": APPLICATION_STATUS,
            "error": error,
            "locale": request_locale(request),
        },
        status_code=422 if error else 200,
    )


@router.post(
    "/hub/organizations/{organization_id}/apply",
    name="hub_apply_submit",
    dependencies=[CheckedForm],
)
def apply_submit(
    request: Request,
    organization_id: int,
    session: DbSession,
    context: AppContext,
    person: CurrentPerson,
    service_id: Annotated[int, Form()] = 0,
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    require(session, person, Action.APPLY_FOR_SERVICE, organization_id)
    try:
        hub.apply_for_service(
            session,
            context.clock,
            actor_id=person.id,
            organization_id=organization_id,
            service_id=service_id,
            note=note,
        )
    except hub.ApplicationError:
        return _apply_page(
            request,
            session,
            organization_id,
            translator(request).gettext(
                "Your organization already uses this service or has applied for it."
            ),
        )
    flash(request, "success", "Your application has been sent. The service desk will contact you.")
    return redirect(str(request.url_for("hub_apply", organization_id=organization_id)))


@router.get("/hub/profile", name="hub_profile")
def profile(request: Request, session: DbSession, person: CurrentPerson) -> Response:
    information = users.Information(person.display_name, person.phone, person.locale)
    return _profile_page(request, person, information, {})


def _profile_page(
    request: Request,
    person: Person,
    information: users.Information,
    errors: dict[str, str],
) -> Response:
    return render(
        request,
        "hub/profile.html",
        {"person": person, "information": information, "errors": errors, "Locale": Locale},
        status_code=422 if errors else 200,
    )


@router.post("/hub/profile", name="hub_profile_submit", dependencies=[CheckedForm])
def profile_submit(
    request: Request,
    session: DbSession,
    context: AppContext,
    person: CurrentPerson,
    name: Annotated[str, Form(max_length=1000)] = "",
    phone: Annotated[str, Form(max_length=200)] = "",
    locale: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    try:
        information = users.clean_information(name, phone, locale)
        organization_id = users.home_organization(session, person.id)
        require(session, person, Action.EDIT_USER_INFORMATION, organization_id, person.id)
        users.update_information(
            session,
            context.clock,
            actor_id=person.id,
            organization_id=organization_id,
            person_id=person.id,
            information=information,
        )
    except UserError as exc:
        shown = users.Information(name, phone or None, None)
        field, text = user_error(translator(request), exc)
        return _profile_page(request, person, shown, {field: text})
    request.session["person_label"] = information.name
    if information.locale is not None:
        request.session["lang"] = information.locale.value
    flash(request, "success", "Your information has been saved.")
    return redirect(str(request.url_for("hub_profile")))
