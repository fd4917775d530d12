"""Organization log-in: success, failure without hints, throttling, sessions, CSRF."""

from __future__ import annotations

import datetime as dt

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from pydantic import AnyHttpUrl
from sqlalchemy import select

from db.models import Organization
from domain import legacy_login, passwords
from domain.clock import FixedClock
from domain.context import App
from domain.passwords import needs_rehash
from portal.app import create_app
from tests.conftest import TOKYO
from tests.web.conftest import PASSWORD, make_organization
from tests.web.helpers import csrf, log_in, text_of

INVALID = "The log-in ID or the password is not correct."


def test_log_in_opens_the_pre_registration_page(client: TestClient, org: Organization) -> None:
    response = log_in(client, org.legacy_login_id)
    assert response.status_code == 303
    assert response.headers["location"].endswith("/registrations")
    page = client.get("/registrations")
    assert page.status_code == 200
    assert org.legacy_login_id in page.text
    assert "Aoshio Kaiun K.K." in page.text


def test_login_id_is_accepted_in_lower_case(client: TestClient, org: Organization) -> None:
    assert log_in(client, f"  {org.legacy_login_id.lower()} ").status_code == 303


def test_wrong_password_and_unknown_id_look_the_same(client: TestClient, org: Organization) -> None:
    wrong = log_in(client, org.legacy_login_id, "not-the-password")
    unknown = log_in(client, "NK999999", "not-the-password")
    assert wrong.status_code == unknown.status_code == 200
    assert INVALID in wrong.text and INVALID in unknown.text
    assert client.get("/registrations", follow_redirects=False).status_code == 303


def test_unknown_id_still_costs_a_password_check(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real = passwords.verify_password

    def spy(stored: str, password: str) -> bool:
        checked.append(stored)
        return real(stored, password)

    monkeypatch.setattr("domain.legacy_login.verify_password", spy)
    log_in(client, "NK404404", "whatever")
    assert checked == [legacy_login._dummy_hash()]
    assert checked[0].startswith("$argon2id$")


def test_five_failures_lock_the_id_for_fifteen_minutes(
    client: TestClient, org: Organization, clock: FixedClock
) -> None:
    for _ in range(5):
        assert log_in(client, org.legacy_login_id, "guess").status_code == 200
    locked = log_in(client, org.legacy_login_id)  # even the right password
    assert locked.status_code == 429
    assert "Too many unsuccessful log-ins" in locked.text
    assert "15 minutes" in locked.text
    clock.advance(minutes=10)
    assert "5 minutes" in log_in(client, org.legacy_login_id).text
    clock.advance(minutes=5, seconds=1)
    assert log_in(client, org.legacy_login_id).status_code == 303


def test_an_unknown_id_is_throttled_like_a_real_one(client: TestClient) -> None:
    for _ in range(5):
        log_in(client, "NK777777", "guess")
    assert log_in(client, "NK777777", "guess").status_code == 429


def test_twenty_failures_from_one_address_block_it(client: TestClient, org: Organization) -> None:
    for number in range(20):
        assert log_in(client, f"NK{number:06d}X", "guess").status_code == 200
    blocked = log_in(client, org.legacy_login_id)
    assert blocked.status_code == 429


def test_success_resets_the_failures_of_the_id(client: TestClient, org: Organization) -> None:
    for _ in range(4):
        log_in(client, org.legacy_login_id, "guess")
    assert log_in(client, org.legacy_login_id).status_code == 303
    for _ in range(4):
        assert log_in(client, org.legacy_login_id, "guess").status_code == 200


def test_an_outdated_hash_is_replaced_at_log_in(client: TestClient, portal: App) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    assert needs_rehash(weak)
    organization = make_organization(portal, weak)
    assert log_in(client, organization.legacy_login_id).status_code == 303
    with portal.sessions() as session:
        stored = session.scalars(
            select(Organization.password_hash).where(Organization.id == organization.id)
        ).one()
    assert stored != weak and not needs_rehash(stored)
    # The new hash was made from the same password, and the session survives the change.
    assert client.get("/registrations").status_code == 200


def test_a_switched_organization_learns_about_individual_log_ins(
    client: TestClient, portal: App, password_hash: str
) -> None:
    organization = make_organization(portal, password_hash)
    with portal.unit_of_work() as session:
        session.get_one(Organization, organization.id).legacy_login_enabled = False
    page = log_in(client, organization.legacy_login_id)
    assert page.status_code == 200
    assert "Your organization now uses individual log-ins" in page.text
    assert client.get("/registrations", follow_redirects=False).status_code == 303
    # Without the password, nothing tells that this ID exists or has switched.
    wrong = log_in(client, organization.legacy_login_id, "guess")
    assert INVALID in wrong.text and "individual log-ins" not in text_of(wrong.text).lower()


def test_log_out_ends_the_session(client: TestClient, org: Organization) -> None:
    log_in(client, org.legacy_login_id)
    token = csrf(client, "/registrations")
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/registrations", follow_redirects=False).status_code == 303


def test_a_session_lasts_a_working_day(
    client: TestClient, org: Organization, clock: FixedClock
) -> None:
    log_in(client, org.legacy_login_id)
    clock.advance(hours=7, minutes=59)
    assert client.get("/registrations", follow_redirects=False).status_code == 200
    clock.advance(minutes=2)
    expired = client.get("/registrations", follow_redirects=False)
    assert expired.status_code == 303 and expired.headers["location"].endswith("/login")


def test_a_password_change_ends_existing_sessions(
    client: TestClient, org: Organization, portal: App
) -> None:
    log_in(client, org.legacy_login_id)
    with portal.unit_of_work() as session:
        session.get_one(Organization, org.id).password_hash = PasswordHasher().hash("changed")
    assert client.get("/registrations", follow_redirects=False).status_code == 303


def test_the_session_cookie_is_http_only_and_same_site(
    client: TestClient, org: Organization
) -> None:
    cookie = log_in(client, org.legacy_login_id).headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()  # the test site is plain http


def test_the_session_cookie_is_secure_behind_https(portal: App, org: Organization) -> None:
    settings = portal.settings.model_copy(
        update={"portal_base_url": AnyHttpUrl("https://portal.example.com")}
    )
    secure = App(settings=settings, engine=portal.engine, clock=portal.clock)
    with TestClient(create_app(context=secure), base_url="https://testserver") as https_client:
        cookie = log_in(https_client, org.legacy_login_id).headers["set-cookie"]
        headers = https_client.get("/").headers
    assert "; secure" in cookie.lower()
    assert headers["strict-transport-security"].startswith("max-age=")


def test_a_post_without_the_csrf_token_is_refused(client: TestClient, org: Organization) -> None:
    client.get("/login")
    response = client.post("/login", data={"login_id": org.legacy_login_id, "password": PASSWORD})
    assert response.status_code == 403
    assert "This form has expired" in response.text
    forged = client.post(
        "/login",
        data={"csrf_token": "x" * 43, "login_id": org.legacy_login_id, "password": PASSWORD},
    )
    assert forged.status_code == 403


def test_a_post_from_another_site_is_refused(client: TestClient, org: Organization) -> None:
    token = csrf(client, "/login")
    response = client.post(
        "/login",
        data={"csrf_token": token, "login_id": org.legacy_login_id, "password": PASSWORD},
        headers={"Origin": "https://attacker.example"},
    )
    assert response.status_code == 403
    assert "sent from another website" in response.text
    same_site = client.post(
        "/login",
        data={"csrf_token": token, "login_id": org.legacy_login_id, "password": PASSWORD},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert same_site.status_code == 303


def test_log_in_rotates_the_csrf_token(client: TestClient, org: Organization) -> None:
    before = csrf(client, "/login")
    log_in(client, org.legacy_login_id)
    assert csrf(client, "/registrations") != before


def test_login_pages_speak_japanese_to_a_japanese_browser(client: TestClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "ja,en;q=0.5"})
    assert '<html lang="ja">' in page.text
    assert "ログインID" in page.text


def test_throttled_time_is_counted_in_the_database(
    client: TestClient, org: Organization, portal: App
) -> None:
    log_in(client, org.legacy_login_id, "guess")
    # Another worker (another app on the same database) sees the same count.
    with TestClient(create_app(context=portal)) as other_worker:
        for _ in range(4):
            log_in(other_worker, org.legacy_login_id, "guess")
    assert log_in(client, org.legacy_login_id).status_code == 429


def test_a_grace_period_ends_the_shared_log_in_by_itself(
    client: TestClient, portal: App, password_hash: str, clock: FixedClock
) -> None:
    organization = make_organization(portal, password_hash)
    clock.set(dt.datetime(2025, 9, 28, 9, 0, tzinfo=TOKYO))
    with portal.unit_of_work() as session:
        session.get_one(Organization, organization.id).legacy_login_expires_at = (
            clock.now() + dt.timedelta(days=14)
        )
    assert log_in(client, organization.legacy_login_id).status_code == 303
    page = text_of(client.get("/registrations").text)
    assert "Individual log-ins are in use" in page
    assert "shared log-in keeps working until 12 October 2025, 09:00 (JST)" in page
    assert "Please contact the helpdesk: they can register your people for you." in page
    clock.advance(days=14)
    assert client.get("/registrations", follow_redirects=False).status_code == 303
    after = log_in(client, organization.legacy_login_id)
    assert "Your organization now uses individual log-ins" in after.text
