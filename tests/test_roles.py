"""The announcement's permission table, cell by cell, against `domain.roles`."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from db.enums import MembershipStatus, PersonStatus, Role
from db.models import Membership, Organization, Person
from domain.roles import (
    PERMISSIONS,
    Action,
    Actor,
    PermissionDenied,
    Target,
    authorize,
    may,
)

# Copied from the announcement: 〇 allowed, ー not allowed, 〇* own information only.
ANNOUNCEMENT = """
Log-in to Customer Hub                | 〇 | 〇  | 〇
Log-in to NK services                 | 〇 | 〇  | 〇
New application for NK service usage  | 〇 | ー  | ー
Add(invite), edit, and delete users   | 〇 | ー  | ー
Edit user information                 | 〇 | 〇* | 〇*
"""
ROW_ACTIONS = {
    "Log-in to Customer Hub": [Action.LOG_IN_HUB],
    "Log-in to NK services": [Action.LOG_IN_SERVICES],
    "New application for NK service usage": [Action.APPLY_FOR_SERVICE],
    "Add(invite), edit, and delete users": [
        Action.INVITE_USER,
        Action.EDIT_USER,
        Action.DELETE_USER,
    ],
    "Edit user information": [Action.EDIT_USER_INFORMATION],
}
COLUMNS = [Role.ADMINISTRATOR, Role.NORMAL, Role.VISITOR]
ORG, OTHER_ORG = 10, 20
ME, COLLEAGUE = 1, 2


def _cells() -> list[tuple[Action, Role, str]]:
    cells: list[tuple[Action, Role, str]] = []
    for line in ANNOUNCEMENT.strip().splitlines():
        label, *marks = (part.strip() for part in line.split("|"))
        for action in ROW_ACTIONS[label]:
            cells.extend((action, role, mark) for role, mark in zip(COLUMNS, marks, strict=True))
    return cells


CELLS = _cells()


def test_the_table_covers_every_action_and_role() -> None:
    assert {(a, r) for a, r, _ in CELLS} == {(a, r) for a in Action for r in Role}
    assert set(PERMISSIONS) == set(Action)


@pytest.mark.parametrize(("action", "role", "mark"), CELLS, ids=lambda v: str(v))
def test_every_cell_of_the_announcement(action: Action, role: Role, mark: str) -> None:
    actor = Actor(person_id=ME, organization_id=ORG, role=role)
    own = Target(organization_id=ORG, person_id=ME)
    colleague = Target(organization_id=ORG, person_id=COLLEAGUE)
    if mark == "〇":
        assert may(actor, action, own)
        assert may(actor, action, colleague)
    elif mark == "〇*":
        assert may(actor, action, own), "own information must be editable"
        assert not may(actor, action, colleague), "only the user's own information"
    else:
        assert mark == "ー"
        assert not may(actor, action, own)
        assert not may(actor, action, colleague)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", list(Role))
def test_no_role_reaches_into_another_organization(action: Action, role: Role) -> None:
    actor = Actor(person_id=ME, organization_id=ORG, role=role)
    assert not may(actor, action, Target(organization_id=OTHER_ORG, person_id=ME))
    assert not may(actor, action, Target(organization_id=OTHER_ORG, person_id=COLLEAGUE))


def test_invite_has_no_target_person_yet() -> None:
    admin = Actor(ME, ORG, Role.ADMINISTRATOR)
    assert may(admin, Action.INVITE_USER, Target(ORG))
    assert not may(Actor(ME, ORG, Role.NORMAL), Action.INVITE_USER, Target(ORG))


def test_own_scope_never_applies_to_organization_actions() -> None:
    # "Own" is about the person's own record; a Normal User applying for a service for "their"
    # organization is still refused.
    normal = Actor(ME, ORG, Role.NORMAL)
    assert not may(normal, Action.APPLY_FOR_SERVICE, Target(ORG, person_id=ME))


# --- against the database: the role comes from the membership of that organization ---


def _person(session: Session, email: str, status: PersonStatus = PersonStatus.ACTIVE) -> Person:
    now = dt.datetime(2025, 9, 28, tzinfo=dt.UTC)
    person = Person(email=email, display_name=email.split("@")[0], status=status, created_at=now)
    session.add(person)
    session.flush()
    return person


def _org(session: Session, login: str) -> Organization:
    now = dt.datetime(2025, 9, 28, tzinfo=dt.UTC)
    org = Organization(
        legacy_login_id=login, name=login, country="JP", password_hash="x", created_at=now
    )
    session.add(org)
    session.flush()
    return org


def _member(
    session: Session,
    person: Person,
    org: Organization,
    role: Role,
    status: MembershipStatus = MembershipStatus.ACTIVE,
) -> None:
    session.add(
        Membership(
            person_id=person.id,
            organization_id=org.id,
            role=role,
            status=status,
            created_at=dt.datetime(2025, 9, 28, tzinfo=dt.UTC),
        )
    )
    session.flush()


def test_a_consultant_holds_each_role_only_where_given(session: Session) -> None:
    owner, yard = _org(session, "OWNER"), _org(session, "YARD")
    consultant = _person(session, "c@consult.example")
    colleague = _person(session, "k@owner.example")
    _member(session, consultant, owner, Role.ADMINISTRATOR)
    _member(session, consultant, yard, Role.VISITOR)
    _member(session, colleague, owner, Role.NORMAL)

    actor = authorize(session, consultant.id, Action.DELETE_USER, Target(owner.id, colleague.id))
    assert actor.role is Role.ADMINISTRATOR
    with pytest.raises(PermissionDenied, match="needs an Administrator; you are a Visitor User"):
        authorize(session, consultant.id, Action.INVITE_USER, Target(yard.id))
    with pytest.raises(PermissionDenied, match="only their own"):
        authorize(
            session, colleague.id, Action.EDIT_USER_INFORMATION, Target(owner.id, consultant.id)
        )
    authorize(session, colleague.id, Action.EDIT_USER_INFORMATION, Target(owner.id, colleague.id))
    with pytest.raises(PermissionDenied, match="not an active member"):
        authorize(session, colleague.id, Action.LOG_IN_HUB, Target(yard.id))


def test_disabled_people_and_memberships_may_do_nothing(session: Session) -> None:
    org = _org(session, "ORG")
    disabled_person = _person(session, "gone@org.example", PersonStatus.DISABLED)
    rolled_back = _person(session, "rb@org.example")
    _member(session, disabled_person, org, Role.ADMINISTRATOR)
    _member(session, rolled_back, org, Role.ADMINISTRATOR, MembershipStatus.DISABLED)
    for person in (disabled_person, rolled_back):
        with pytest.raises(PermissionDenied):
            authorize(session, person.id, Action.LOG_IN_HUB, Target(org.id))
