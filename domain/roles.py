"""Who may do what: the announcement's permission matrix, as data, and one function that reads it.

    Permission                            | Administrator | Normal User | Visitor User
    Log-in to Customer Hub                |       o       |      o      |      o
    Log-in to NK services                 |       o       |      o      |      o
    New application for NK service usage  |       o       |      -      |      -
    Add (invite), edit, and delete users  |       o       |      -      |      -
    Edit user information                 |       o       |      o*     |      o*
    * Only the user's own information can be edited.

Every permission is scoped to one organization: a person who is an Administrator of one company
and a Visitor of another holds each role only where it was given.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.enums import MembershipStatus, PersonStatus, Role
from db.models import Membership, Person


class Action(StrEnum):
    LOG_IN_HUB = "log_in_hub"
    LOG_IN_SERVICES = "log_in_services"
    APPLY_FOR_SERVICE = "apply_for_service"
    INVITE_USER = "invite_user"
    EDIT_USER = "edit_user"  # change another person's role or membership
    DELETE_USER = "delete_user"
    EDIT_USER_INFORMATION = "edit_user_information"  # name, contact details of a person

    @property
    def label(self) -> str:
        return _LABELS[self]


class Scope(StrEnum):
    """How far a role's permission reaches within the organization it was given in."""

    ORGANIZATION = "organization"  # anything of the organization, any of its users
    OWN = "own"  # only the person's own record
    NONE = "none"


_LABELS = {
    Action.LOG_IN_HUB: "Log in to the Customer Hub",
    Action.LOG_IN_SERVICES: "Log in to NK services",
    Action.APPLY_FOR_SERVICE: "Apply for a new NK service",
    Action.INVITE_USER: "Add (invite) users",
    Action.EDIT_USER: "Edit users",
    Action.DELETE_USER: "Delete users",
    Action.EDIT_USER_INFORMATION: "Edit user information",
}

_ADMIN_ONLY = {
    Role.ADMINISTRATOR: Scope.ORGANIZATION,
    Role.NORMAL: Scope.NONE,
    Role.VISITOR: Scope.NONE,
}
_EVERYONE = {
    Role.ADMINISTRATOR: Scope.ORGANIZATION,
    Role.NORMAL: Scope.ORGANIZATION,
    Role.VISITOR: Scope.ORGANIZATION,
}

PERMISSIONS: dict[Action, dict[Role, Scope]] = {
    Action.LOG_IN_HUB: _EVERYONE,
    Action.LOG_IN_SERVICES: _EVERYONE,
    Action.APPLY_FOR_SERVICE: _ADMIN_ONLY,
    Action.INVITE_USER: _ADMIN_ONLY,
    Action.EDIT_USER: _ADMIN_ONLY,
    Action.DELETE_USER: _ADMIN_ONLY,
    Action.EDIT_USER_INFORMATION: {
        Role.ADMINISTRATOR: Scope.ORGANIZATION,
        Role.NORMAL: Scope.OWN,
        Role.VISITOR: Scope.OWN,
    },
}

# Actions that are about a person; the others are about the organization as a whole.
PERSON_ACTIONS = frozenset(
    {Action.INVITE_USER, Action.EDIT_USER, Action.DELETE_USER, Action.EDIT_USER_INFORMATION}
)


@dataclass(frozen=True)
class Actor:
    """A person acting as a member of one organization, with the role they hold there."""

    person_id: int
    organization_id: int
    role: Role


@dataclass(frozen=True)
class Target:
    """What the action is done to: an organization, and for person actions, one of its people.

    ``person_id`` is None when inviting someone who has no account yet.
    """

    organization_id: int
    person_id: int | None = None


def may(actor: Actor, action: Action, target: Target) -> bool:
    """May `actor` do `action` to `target`? Reads only the matrix; no database."""
    scope = PERMISSIONS[action][actor.role]
    if scope is Scope.NONE or target.organization_id != actor.organization_id:
        return False
    if scope is Scope.OWN:
        return action in PERSON_ACTIONS and target.person_id == actor.person_id
    return True


class PermissionDenied(Exception):
    def __init__(self, action: Action, reason: str) -> None:
        super().__init__(f"not allowed to {action.label.lower()}: {reason}")
        self.action = action
        self.reason = reason


def actor_in(session: Session, person_id: int, organization_id: int) -> Actor | None:
    """The person's active role in the organization, or None if they have none there."""
    row = session.execute(
        select(Membership.role)
        .join(Person, Person.id == Membership.person_id)
        .where(
            Membership.person_id == person_id,
            Membership.organization_id == organization_id,
            Membership.status == MembershipStatus.ACTIVE,
            Person.status == PersonStatus.ACTIVE,
        )
    ).scalar_one_or_none()
    return None if row is None else Actor(person_id, organization_id, row)


def authorize(session: Session, person_id: int, action: Action, target: Target) -> Actor:
    """The acting membership if the action is allowed; `PermissionDenied` saying why if not."""
    actor = actor_in(session, person_id, target.organization_id)
    if actor is None:
        raise PermissionDenied(action, "you are not an active member of this organization")
    if not may(actor, action, target):
        if PERMISSIONS[action][actor.role] is Scope.OWN:
            raise PermissionDenied(action, f"a {actor.role.label} may change only their own")
        raise PermissionDenied(action, f"this needs an Administrator; you are a {actor.role.label}")
    return actor
