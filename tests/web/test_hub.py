"""The individual log-in over HTTP: every cell of the permission matrix, links, log-in, legacy."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from db.enums import MembershipStatus, PersonStatus, Role
from db.models import (
    Invitation,
    Membership,
    Message,
    Organization,
    Person,
    Service,
    ServiceApplication,
    ServiceSubscription,
    ServiceUsage,
)
from domain.context import App
from domain.roles import Action
from tests.web.conftest import PASSWORD, make_organization
from tests.web.helpers import csrf, text_of

ROLES = (Role.ADMINISTRATOR, Role.NORMAL, Role.VISITOR)


@dataclass(frozen=True)
class Hub:
    org: int
    other_org: int
    service: int
    spare_service: int
    people: dict[Role, int]  # person ids in `org`, one per role
    colleague: int  # another Normal user of `org`, the target of person actions
    emails: dict[Role, str]


def person(portal: App, email: str, name: str, password_hash: str) -> Person:
    with portal.unit_of_work() as session:
        found = Person(
            email=email,
            display_name=name,
            password_hash=password_hash,
            status=PersonStatus.ACTIVE,
            created_at=portal.clock.now(),
            activated_at=portal.clock.now(),
        )
        session.add(found)
    return found


def member(portal: App, person_id: int, organization_id: int, role: Role) -> None:
    with portal.unit_of_work() as session:
        session.add(
            Membership(
                person_id=person_id,
                organization_id=organization_id,
                role=role,
                status=MembershipStatus.ACTIVE,
                created_at=portal.clock.now(),
            )
        )


@pytest.fixture
def hub(portal: App, password_hash: str) -> Hub:
    org = make_organization(portal, password_hash, name="Aoshio Kaiun K.K.")
    other = make_organization(portal, password_hash, name="Kuroshio Marine")
    with portal.unit_of_work() as session:
        used = Service(
            code="SURVEY", name="Survey Booking", name_ja="検査申込", requires_preregistration=True
        )
        spare = Service(
            code="CERT", name="e-Certificates", name_ja="電子証書", requires_preregistration=True
        )
        session.add_all([used, spare])
        session.flush()
        session.add(
            ServiceSubscription(
                organization_id=org.id, service_id=used.id, since=dt.date(2020, 4, 1)
            )
        )
        session.add(
            ServiceUsage(
                organization_id=org.id, service_id=used.id, month=dt.date(2025, 5, 1), uses=42
            )
        )
    people: dict[Role, int] = {}
    emails: dict[Role, str] = {}
    for role in ROLES:
        email = f"{role.value}@aoshio.example"
        found = person(portal, email, f"{role.label} Sato", password_hash)
        member(portal, found.id, org.id, role)
        people[role], emails[role] = found.id, email
    colleague = person(portal, "colleague@aoshio.example", "Colleague Ito", password_hash)
    member(portal, colleague.id, org.id, Role.NORMAL)
    outsider = person(portal, "boss@kuroshio.example", "Boss Kuro", password_hash)
    member(portal, outsider.id, other.id, Role.ADMINISTRATOR)
    return Hub(org.id, other.id, used.id, spare.id, people, colleague.id, emails)


def log_in(client: TestClient, email: str, password: str = PASSWORD) -> httpx.Response:
    token = csrf(client, "/account/login")
    response: httpx.Response = client.post(
        "/account/login",
        data={"csrf_token": token, "email": email, "password": password},
        follow_redirects=False,
    )
    return response


def post(client: TestClient, path: str, data: dict[str, str] | None = None) -> httpx.Response:
    token = csrf(client, "/hub/profile")
    response: httpx.Response = client.post(
        path, data={"csrf_token": token, **(data or {})}, follow_redirects=False
    )
    return response


def attempt(client: TestClient, hub: Hub, action: Action, target: int) -> list[int]:
    """The status of every request that exercises `action` (person actions on `target`); a
    redirect after a POST is the form's success, counted as 200."""
    base = f"/hub/organizations/{hub.org}"
    if action is Action.LOG_IN_HUB:
        page = client.get("/hub")
        codes = [page.status_code if "Aoshio Kaiun K.K." in page.text else 500]
    elif action is Action.LOG_IN_SERVICES:
        page = client.get(f"{base}/services/{hub.service}")
        codes = [page.status_code if "42" in page.text else 500]
    elif action is Action.APPLY_FOR_SERVICE:
        codes = [
            client.get(f"{base}/apply").status_code,
            post(client, f"{base}/apply", {"service_id": str(hub.spare_service)}).status_code,
        ]
    elif action is Action.INVITE_USER:
        codes = [
            client.get(f"{base}/users").status_code,
            post(
                client,
                f"{base}/users/invite",
                {"name": "New Person", "email": "new@aoshio.example", "role": "visitor"},
            ).status_code,
        ]
    elif action is Action.EDIT_USER:
        codes = [post(client, f"{base}/users/{target}/role", {"role": "visitor"}).status_code]
    elif action is Action.DELETE_USER:
        codes = [post(client, f"{base}/users/{target}/remove").status_code]
    else:
        info = f"{base}/users/{target}/information"
        codes = [
            client.get(info).status_code,
            post(client, info, {"name": "Renamed Person", "phone": "+81 3 1234 5678"}).status_code,
        ]
    return [200 if code == 303 else code for code in codes]


# The announcement's table: 〇 allowed, ー refused, 〇* only on oneself.
MATRIX = {
    Action.LOG_IN_HUB: ("yes", "yes", "yes"),
    Action.LOG_IN_SERVICES: ("yes", "yes", "yes"),
    Action.APPLY_FOR_SERVICE: ("yes", "no", "no"),
    Action.INVITE_USER: ("yes", "no", "no"),
    Action.EDIT_USER: ("yes", "no", "no"),
    Action.DELETE_USER: ("yes", "no", "no"),
    Action.EDIT_USER_INFORMATION: ("yes", "own", "own"),
}
CELLS = [
    (action, role, mark)
    for action, marks in MATRIX.items()
    for role, mark in zip(ROLES, marks, strict=True)
]


def test_the_matrix_covers_every_action() -> None:
    assert set(MATRIX) == set(Action)


@pytest.mark.parametrize(
    ("action", "role", "mark"), CELLS, ids=lambda v: str(getattr(v, "value", v))
)
def test_every_cell_of_the_permission_matrix(
    client: TestClient, hub: Hub, portal: App, action: Action, role: Role, mark: str
) -> None:
    assert log_in(client, hub.emails[role]).status_code == 303
    codes = attempt(client, hub, action, hub.colleague)
    expected = 200 if mark == "yes" else 403
    assert codes == [expected] * len(codes), (action, role)
    if mark == "own" or action is Action.EDIT_USER_INFORMATION:
        own = attempt(client, hub, action, hub.people[role])
        own.append(client.get("/hub/profile").status_code)
        saved = post(client, "/hub/profile", {"name": "My Newer Name", "locale": "en"})
        own.append(200 if saved.status_code == 303 else saved.status_code)
        assert own == [200] * len(own), (action, role, "own")
    with portal.unit_of_work() as session:
        applied = session.scalar(select(func.count()).select_from(ServiceApplication))
        invited = session.scalar(select(func.count()).select_from(Invitation))
        colleague = session.scalars(
            select(Membership).where(Membership.person_id == hub.colleague)
        ).one()
    if action is Action.APPLY_FOR_SERVICE:
        assert applied == (1 if mark == "yes" else 0)
    if action is Action.INVITE_USER:
        assert invited == (1 if mark == "yes" else 0)
    if action is Action.EDIT_USER:
        assert colleague.role is (Role.VISITOR if mark == "yes" else Role.NORMAL)
    if action is Action.DELETE_USER:
        removed = colleague.status is MembershipStatus.DISABLED
        assert removed is (mark == "yes")


def test_a_member_of_another_organization_finds_nothing(client: TestClient, hub: Hub) -> None:
    assert log_in(client, "boss@kuroshio.example").status_code == 303
    base = f"/hub/organizations/{hub.org}"
    assert client.get(f"{base}/users").status_code == 404
    assert client.get(f"{base}/services/{hub.service}").status_code == 404
    assert post(client, f"{base}/users/{hub.colleague}/remove").status_code == 404
    assert "Aoshio" not in client.get("/hub").text


def test_pages_need_a_logged_in_person(client: TestClient, hub: Hub) -> None:
    response = client.get("/hub", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].endswith("/account/login")
    assert "Please log in with your email address" in client.get("/account/login").text


def test_the_last_administrator_cannot_be_removed_or_demoted(
    client: TestClient, hub: Hub, portal: App
) -> None:
    admin = hub.people[Role.ADMINISTRATOR]
    assert log_in(client, hub.emails[Role.ADMINISTRATOR]).status_code == 303
    base = f"/hub/organizations/{hub.org}/users/{admin}"
    post(client, f"{base}/role", {"role": "normal"})
    assert "needs at least one Administrator" in text_of(
        client.get(f"/hub/organizations/{hub.org}/users").text
    )
    post(client, f"{base}/remove")
    with portal.unit_of_work() as session:
        membership = session.scalars(select(Membership).where(Membership.person_id == admin)).one()
        assert (
            membership.role is Role.ADMINISTRATOR and membership.status is MembershipStatus.ACTIVE
        )


def test_an_invitation_from_email_to_hub(client: TestClient, hub: Hub, portal: App) -> None:
    assert log_in(client, hub.emails[Role.ADMINISTRATOR]).status_code == 303
    response = post(
        client,
        f"/hub/organizations/{hub.org}/users/invite",
        {"name": "Kenji Mori", "email": "Kenji.Mori@aoshio.example", "role": "normal"},
    )
    assert response.status_code == 303
    with portal.unit_of_work() as session:
        email = session.scalars(select(Message).where(Message.template == "invitation")).one()
    assert email.to_address == "kenji.mori@aoshio.example"
    token = re.search(r"/invitation/([A-Za-z0-9_-]+)", email.body_text)
    assert token is not None
    client.post("/logout", data={"csrf_token": csrf(client, "/hub")})
    link = f"/invitation/{token.group(1)}"
    page = client.get(link)
    assert page.status_code == 200 and "Join Aoshio Kaiun K.K." in text_of(page.text)
    weak = client.post(link, data={"password": "password123", "confirmation": "password123"})
    assert weak.status_code == 422
    assert "Use at least 15 characters" in weak.text and "too common" in weak.text
    done = client.post(
        link,
        data={"password": "tide tables of kobe", "confirmation": "tide tables of kobe"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].endswith("/hub")
    home = text_of(client.get("/hub").text)
    assert "Welcome, Kenji Mori" in home and "Normal User" in home
    assert client.get(link).status_code == 200  # now "accepted", not an error
    assert "This invitation has been accepted" in client.get(link).text


def test_legacy_login_of_a_migrated_organization_points_to_the_new_login(
    client: TestClient, hub: Hub, portal: App
) -> None:
    with portal.unit_of_work() as session:
        org = session.get_one(Organization, hub.org)
        org.legacy_login_enabled = False
        login_id = org.legacy_login_id
    token = csrf(client, "/login")
    page = client.post(
        "/login", data={"csrf_token": token, "login_id": login_id, "password": PASSWORD}
    )
    assert "Your organization now uses individual log-ins" in page.text
    assert 'href="/account/login"' in page.text


def test_wrong_password_unknown_address_and_no_password_yet_look_alike(
    client: TestClient, hub: Hub, portal: App
) -> None:
    with portal.unit_of_work() as session:
        session.add(
            Person(
                email="pending@aoshio.example",
                display_name="Not Yet",
                status=PersonStatus.PENDING_ACTIVATION,
                created_at=portal.clock.now(),
            )
        )
    answers = [
        log_in(client, hub.emails[Role.NORMAL], "wrong password here"),
        log_in(client, "nobody@aoshio.example", "wrong password here"),
        log_in(client, "pending@aoshio.example", "wrong password here"),
    ]
    assert {a.status_code for a in answers} == {200}
    assert all("If you have not set your password yet" in a.text for a in answers)
    for _ in range(4):  # five failures for the address in all
        log_in(client, hub.emails[Role.NORMAL], "still wrong")
    locked = log_in(client, hub.emails[Role.NORMAL])
    assert locked.status_code == 429 and "15 minutes" in locked.text


def test_a_disabled_account_is_told_only_with_the_right_password(
    client: TestClient, hub: Hub, portal: App
) -> None:
    with portal.unit_of_work() as session:
        session.get_one(Person, hub.people[Role.VISITOR]).status = PersonStatus.DISABLED
    assert log_in(client, hub.emails[Role.VISITOR], "a wrong password!").status_code == 200
    told = log_in(client, hub.emails[Role.VISITOR])
    assert told.status_code == 403 and "uses its shared log-in again" in text_of(told.text)


def test_a_session_ends_when_the_account_is_disabled(
    client: TestClient, hub: Hub, portal: App
) -> None:
    assert log_in(client, hub.emails[Role.NORMAL]).status_code == 303
    assert client.get("/hub").status_code == 200
    with portal.unit_of_work() as session:
        session.get_one(Person, hub.people[Role.NORMAL]).status = PersonStatus.DISABLED
    assert client.get("/hub", follow_redirects=False).status_code == 303


def test_the_hub_speaks_japanese(client: TestClient, hub: Hub) -> None:
    client.get("/language/ja")
    assert log_in(client, hub.emails[Role.ADMINISTRATOR]).status_code == 303
    home = text_of(client.get("/hub").text)
    assert "検査申込" in home and "新規サービスの利用申込" in home
