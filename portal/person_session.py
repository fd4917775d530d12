"""The individual log-in's session: who is logged in, and what a hub page may show them.

A session holds either an organization (the legacy log-in, `portal.deps`) or a person, never
both: logging in as one clears the other. A person's session ends after a working day, when their
password changes (the fingerprint of its hash is kept), and when their account is disabled.

Every hub page acts in the name of one organization (``/hub/organizations/{id}/…``), and is
allowed by `domain.roles`: not being a member of that organization is "not found" (ids are no
hints), being a member without the permission is "refused" with the reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from db.enums import PersonStatus
from db.models import Person
from domain.accounts.login import session_fingerprint
from domain.roles import Action, Actor, PermissionDenied, Target, actor_in, may
from portal.deps import SESSION_LANG, AppContext, DbSession, log_out

LOGIN_LIFETIME = dt.timedelta(hours=8)
SESSION_PERSON = "person"
SESSION_PERSON_FINGERPRINT = "person_fp"
SESSION_PERSON_AT = "person_at"
SESSION_PERSON_LABEL = "person_label"


class PersonLoginRequired(Exception):
    """The page needs a logged-in person; the handler sends the visitor to the log-in."""


class Refused(Exception):
    """The person may not do this here (the permission matrix); shown as a 403 with the reason."""

    def __init__(self, denied: PermissionDenied) -> None:
        super().__init__(str(denied))
        self.denied = denied


def log_in_person(request: Request, person: Person, now: dt.datetime) -> None:
    """A fresh session for the person (a new CSRF token: no fixation across log-ins)."""
    lang = person.locale.value if person.locale else request.session.get(SESSION_LANG)
    request.session.clear()
    if lang:
        request.session[SESSION_LANG] = lang
    request.session[SESSION_PERSON] = person.id
    request.session[SESSION_PERSON_FINGERPRINT] = session_fingerprint(person)
    request.session[SESSION_PERSON_AT] = now.timestamp()
    request.session[SESSION_PERSON_LABEL] = person.display_name
    person.last_login_at = now  # in the caller's unit of work, which commits it


def person_id(request: Request) -> int | None:
    value = request.session.get(SESSION_PERSON)
    return value if isinstance(value, int) else None


def current_person(request: Request, session: DbSession, context: AppContext) -> Person:
    found_id = person_id(request)
    if found_id is None:
        raise PersonLoginRequired
    person = session.get(Person, found_id)
    logged_in_at = request.session.get(SESSION_PERSON_AT)
    expired = (
        not isinstance(logged_in_at, int | float)
        or context.clock.now().timestamp() - logged_in_at > LOGIN_LIFETIME.total_seconds()
    )
    if (
        person is None
        or expired
        or person.status is not PersonStatus.ACTIVE
        or request.session.get(SESSION_PERSON_FINGERPRINT) != session_fingerprint(person)
    ):
        log_out(request)
        raise PersonLoginRequired
    return person


CurrentPerson = Annotated[Person, Depends(current_person)]


def member_of(session: Session, person: Person, organization_id: int) -> Actor:
    """The person's role in the organization; 404 when they are not an active member of it."""
    actor = actor_in(session, person.id, organization_id)
    if actor is None:
        raise HTTPException(status_code=404)
    return actor


def require(
    session: Session,
    person: Person,
    action: Action,
    organization_id: int,
    target_person_id: int | None = None,
) -> Actor:
    """The acting membership if the matrix allows `action`; `Refused` (403) if not."""
    actor = member_of(session, person, organization_id)
    if not may(actor, action, Target(organization_id, target_person_id)):
        reason = (
            f"a {actor.role.label} may change only their own"
            if action is Action.EDIT_USER_INFORMATION
            else f"this needs an Administrator; you are a {actor.role.label}"
        )
        raise Refused(PermissionDenied(action, reason))
    return actor
