"""An organization's users in the Customer Hub: the Administrator's page, and user information.

Administrators see the users and pending invitations, invite (email and role → the invitation
email → the person sets a password), change roles and remove users. User information (name,
phone, language) is edited by an Administrator for anyone of the organization and by every user
for themselves; a Normal or Visitor user opening someone else's is refused.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response

from db.enums import Locale, Role
from domain.accounts import invitations, users
from domain.accounts.invitations import InvitationError
from domain.accounts.users import UserError
from domain.roles import Action
from portal.deps import AppContext, CheckedForm, DbSession
from portal.person_session import CurrentPerson, require
from portal.registration_form import ROLE_TEXT
from portal.routes.hub import organization_or_404
from portal.user_errors import user_error, user_error_message
from portal.view import flash, redirect, render, translator

router = APIRouter()
BASE = "/hub/organizations/{organization_id}/users"


def _users_page(
    request: Request,
    session: DbSession,
    context: AppContext,
    organization_id: int,
    person_id: int,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "hub/users.html",
        {
            "organization": organization_or_404(session, organization_id),
            "users": users.users(session, organization_id),
            "invitations": invitations.pending(session, context.clock, organization_id),
            "me": person_id,
            "roles": [(role, *ROLE_TEXT[role]) for role in Role],
            "form": form or {"name": "", "email": "", "role": Role.NORMAL.value},
            "errors": errors or {},
        },
        status_code=422 if errors else 200,
    )


@router.get(BASE, name="hub_users")
def users_page(
    request: Request,
    organization_id: int,
    session: DbSession,
    context: AppContext,
    person: CurrentPerson,
) -> Response:
    require(session, person, Action.INVITE_USER, organization_id)
    return _users_page(request, session, context, organization_id, person.id)


@router.post(BASE + "/invite", name="hub_invite", dependencies=[CheckedForm])
def invite(
    request: Request,
    organization_id: int,
    session: DbSession,
    context: AppContext,
    person: CurrentPerson,
    name: Annotated[str, Form(max_length=1000)] = "",
    email: Annotated[str, Form(max_length=1000)] = "",
    role: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    require(session, person, Action.INVITE_USER, organization_id)
    try:
        invited = invitations.invite(
            session,
            context.clock,
            context.settings,
            inviter_id=person.id,
            organization_id=organization_id,
            name=name,
            email=email,
            role=role,
        )
    except InvitationError as exc:
        field, text = user_error(translator(request), exc)
        return _users_page(
            request,
            session,
            context,
            organization_id,
            person.id,
            form={"name": name, "email": email, "role": role},
            errors={field: text},
        )
    flash(
        request,
        "success",
        "An invitation is on its way to %(address)s. It works until the person accepts it or it "
        "expires.",
        address=invited.invitation.email_display,
    )
    return redirect(str(request.url_for("hub_users", organization_id=organization_id)))


@router.post(
    BASE + "/invitations/{invitation_id}/withdraw",
    name="hub_withdraw_invitation",
    dependencies=[CheckedForm],
)
def withdraw_invitation(
    request: Request,
    organization_id: int,
    invitation_id: int,
    session: DbSession,
    context: AppContext,
    person: CurrentPerson,
) -> Response:
    require(session, person, Action.INVITE_USER, organization_id)
    try:
        invitations.withdraw(
            session,
            context.clock,
            actor_id=person.id,
            organization_id=organization_id,
            invitation_id=invitation_id,
        )
    except InvitationError:
        flash(request, "error", "This invitation can no longer be withdrawn.")
    else:
        flash(request, "success", "The invitation has been withdrawn; its link no longer works.")
    return redirect(str(request.url_for("hub_users", organization_id=organization_id)))


@router.post(BASE + "/{person_id}/role", name="hub_change_role", dependencies=[CheckedForm])
def change_role(
    request: Request,
    organization_id: int,
    person_id: int,
    session: DbSession,
    context: AppContext,
    person: CurrentPerson,
    role: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    require(session, person, Action.EDIT_USER, organization_id, person_id)
    back = str(request.url_for("hub_users", organization_id=organization_id))
    try:
        users.change_role(
            session,
            context.clock,
            actor_id=person.id,
            organization_id=organization_id,
            person_id=person_id,
            role=role,
        )
    except UserError as exc:
        _field, message, values = user_error_message(exc)
        flash(request, "error", message, **values)
        return redirect(back)
    flash(request, "success", "The account type has been changed.")
    return redirect(back)


@router.post(BASE + "/{person_id}/remove", name="hub_remove_user", dependencies=[CheckedForm])
def remove_user(
    request: Request,
    organization_id: int,
    person_id: int,
    session: DbSession,
    context: AppContext,
    person: CurrentPerson,
) -> Response:
    require(session, person, Action.DELETE_USER, organization_id, person_id)
    back = str(request.url_for("hub_users", organization_id=organization_id))
    try:
        users.remove(
            session,
            context.clock,
            actor_id=person.id,
            organization_id=organization_id,
            person_id=person_id,
        )
    except UserError as exc:
        _field, message, values = user_error_message(exc)
        flash(request, "error", message, **values)
        return redirect(back)
    flash(request, "success", "The user has been removed from the organization.")
    return redirect(back)


def _information_page(
    request: Request,
    session: DbSession,
    organization_id: int,
    target: users.UserRow | None,
    information: users.Information,
    errors: dict[str, str],
) -> Response:
    return render(
        request,
        "hub/user_information.html",
        {
            "organization": organization_or_404(session, organization_id),
            "target": target,
            "information": information,
            "errors": errors,
            "Locale": Locale,
        },
        status_code=422 if errors else 200,
    )


def _row(session: DbSession, organization_id: int, person_id: int) -> users.UserRow:
    for row in users.users(session, organization_id):
        if row.person_id == person_id:
            return row
    raise HTTPException(status_code=404)


@router.get(BASE + "/{person_id}/information", name="hub_user_information")
def information_form(
    request: Request,
    organization_id: int,
    person_id: int,
    session: DbSession,
    person: CurrentPerson,
) -> Response:
    require(session, person, Action.EDIT_USER_INFORMATION, organization_id, person_id)
    row = _row(session, organization_id, person_id)
    _membership, target = users.member(session, organization_id, person_id)
    information = users.Information(target.display_name, target.phone, target.locale)
    return _information_page(request, session, organization_id, row, information, {})


@router.post(
    BASE + "/{person_id}/information",
    name="hub_user_information_submit",
    dependencies=[CheckedForm],
)
def information_submit(
    request: Request,
    organization_id: int,
    person_id: int,
    session: DbSession,
    context: AppContext,
    person: CurrentPerson,
    name: Annotated[str, Form(max_length=1000)] = "",
    phone: Annotated[str, Form(max_length=200)] = "",
    locale: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    require(session, person, Action.EDIT_USER_INFORMATION, organization_id, person_id)
    row = _row(session, organization_id, person_id)
    try:
        information = users.clean_information(name, phone, locale)
        users.update_information(
            session,
            context.clock,
            actor_id=person.id,
            organization_id=organization_id,
            person_id=person_id,
            information=information,
        )
    except UserError as exc:
        field, text = user_error(translator(request), exc)
        shown = users.Information(name, phone or None, None)
        return _information_page(request, session, organization_id, row, shown, {field: text})
    if person_id == person.id:
        request.session["person_label"] = information.name
    flash(request, "success", "The information has been saved.")
    return redirect(
        str(
            request.url_for(
                "hub_user_information", organization_id=organization_id, person_id=person_id
            )
        )
    )
