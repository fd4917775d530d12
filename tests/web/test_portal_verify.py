"""Verification links: looking consumes nothing, confirming is idempotent, dead links say what
to do without revealing anyone."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from db.enums import RegistrationStatus, Role
from db.models import Message, Organization, Registration, VerificationToken
from domain.clock import FixedClock
from domain.context import App
from domain.registration import withdraw
from domain.verification import issue_link
from tests import factories
from tests.web.helpers import text_of


def registered(portal: App, organization: Organization, email: str = "mika@owner.example") -> str:
    """A pending registration with a live link; returns the raw token (as in the email)."""
    with portal.unit_of_work() as session:
        registration = factories.registration(
            session,
            portal.clock,
            portal.calendar,
            organization,
            email,
            name="Mika Sato",
            role=Role.ADMINISTRATOR,
        )
        return issue_link(session, portal.clock, portal.settings, registration)


def status_of(portal: App, email: str = "mika@owner.example") -> RegistrationStatus:
    with portal.sessions() as session:
        return session.scalars(select(Registration.status).where(Registration.email == email)).one()


def test_opening_the_link_shows_who_and_consumes_nothing(
    client: TestClient, org: Organization, portal: App
) -> None:
    token = registered(portal, org)
    for _ in range(3):  # the mail gateway, the preview pane, the person
        page = client.get(f"/verify/{token}")
        assert page.status_code == 200
    text = text_of(page.text)
    assert "Confirm your email address" in text
    assert "Mika Sato" in text and "Aoshio Kaiun K.K." in text and "Administrator" in text
    assert f'action="/verify/{token}"' in page.text
    assert status_of(portal) is RegistrationStatus.PENDING
    with portal.sessions() as session:
        assert session.scalars(select(VerificationToken.used_at)).one() is None


def test_confirming_verifies_and_says_what_happens_next(
    client: TestClient, org: Organization, portal: App
) -> None:
    token = registered(portal, org)
    page = client.post(f"/verify/{token}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Thank you, your email address is confirmed" in text
    assert "mika@owner.example is now registered for Aoshio Kaiun K.K." in text
    assert "On 28 September 2025 the portal switches to individual log-ins." in text
    assert status_of(portal) is RegistrationStatus.VERIFIED


def test_a_second_confirmation_says_already_verified(
    client: TestClient, org: Organization, portal: App, clock: FixedClock
) -> None:
    token = registered(portal, org)
    client.post(f"/verify/{token}")
    clock.advance(days=2)
    again = client.post(f"/verify/{token}")
    assert again.status_code == 200
    text = text_of(again.text)
    assert "This address is already confirmed" in text
    assert "was confirmed on 1 July 2025" in text
    assert "This address is already confirmed" in text_of(client.get(f"/verify/{token}").text)


def test_an_expired_link_says_what_to_do_and_names_no_one(
    client: TestClient, org: Organization, portal: App, clock: FixedClock
) -> None:
    token = registered(portal, org)
    clock.advance(hours=portal.settings.verification_token_ttl_hours, seconds=1)
    for response in (client.get(f"/verify/{token}"), client.post(f"/verify/{token}")):
        assert response.status_code == 410
        text = text_of(response.text)
        assert "This link is no longer valid" in text
        assert "send a new link from the pre-registration page" in text
        assert "cch-portal@classnk.or.jp" in text
        assert "Mika" not in text and "Aoshio" not in text and "mika@" not in text
    assert status_of(portal) is RegistrationStatus.PENDING


def test_a_replaced_link_is_expired(client: TestClient, org: Organization, portal: App) -> None:
    old = registered(portal, org)
    with portal.unit_of_work() as session:
        registration = session.scalars(select(Registration)).one()
        new = issue_link(session, portal.clock, portal.settings, registration)
    assert client.post(f"/verify/{old}").status_code == 410
    assert client.post(f"/verify/{new}").status_code == 200


def test_a_withdrawn_registration_says_so(
    client: TestClient, org: Organization, portal: App
) -> None:
    token = registered(portal, org)
    with portal.unit_of_work() as session:
        registration = session.scalars(select(Registration)).one()
        withdraw(session, portal.clock, registration=registration, actor="org:test")
    response = client.post(f"/verify/{token}")
    assert response.status_code == 410
    text = text_of(response.text)
    assert "This registration was withdrawn" in text
    assert "Mika" not in text
    assert status_of(portal) is RegistrationStatus.WITHDRAWN


@pytest.mark.parametrize(
    "token", ["x" * 43, "too-short", "not a token at all", "a" * 64, "%00" * 20]
)
def test_an_unknown_link_reveals_nothing(client: TestClient, token: str) -> None:
    for response in (client.get(f"/verify/{token}"), client.post(f"/verify/{token}")):
        assert response.status_code == 404
        text = text_of(response.text)
        assert "We do not recognize this link" in text
        assert "copying the whole link" in text


def test_a_cross_site_confirmation_is_refused(
    client: TestClient, org: Organization, portal: App
) -> None:
    token = registered(portal, org)
    for headers in (
        {"Origin": "https://evil.example"},
        {"Referer": "https://evil.example/page"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "null"},
    ):
        assert client.post(f"/verify/{token}", headers=headers).status_code == 403
    assert status_of(portal) is RegistrationStatus.PENDING
    same_site = client.post(
        f"/verify/{token}",
        headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
    )
    assert same_site.status_code == 200
    assert status_of(portal) is RegistrationStatus.VERIFIED


def test_the_configured_public_address_counts_as_this_site(
    client: TestClient, org: Organization, portal: App
) -> None:
    token = registered(portal, org)
    # Behind a proxy the Host may differ; the configured base URL is still this site.
    response = client.post(f"/verify/{token}", headers={"Origin": "http://127.0.0.1:8000"})
    assert response.status_code == 200


def test_the_page_speaks_the_organizations_language(
    client: TestClient, ja_org: Organization, portal: App
) -> None:
    token = registered(portal, ja_org, "mika@aoshio.example.jp")
    page = client.get(f"/verify/{token}", headers={"Accept-Language": "en-US,en"})
    assert '<html lang="ja">' in page.text
    assert "メールアドレスを確認する" in page.text
    confirmed = client.post(f"/verify/{token}")
    assert "2025年9月28日(日)に、ポータルは個人ログインに切り替わります。" in text_of(
        confirmed.text
    )


def test_an_unknown_link_follows_the_browsers_language(client: TestClient) -> None:
    page = client.get("/verify/" + "x" * 43, headers={"Accept-Language": "ja-JP"})
    assert "このリンクを確認できません" in page.text


def test_the_link_in_the_email_is_the_one_that_works(
    client: TestClient, org: Organization, portal: App
) -> None:
    registered(portal, org)
    with portal.sessions() as session:
        body = session.scalars(select(Message.body_text)).one()
    link = next(word for word in body.split() if "/verify/" in word)
    path = "/verify/" + link.split("/verify/")[1].rstrip(".,)>")
    assert client.get(path).status_code == 200
    assert client.post(path).status_code == 200
    assert status_of(portal) is RegistrationStatus.VERIFIED


def test_confirming_on_the_last_valid_second(
    client: TestClient, org: Organization, portal: App, clock: FixedClock
) -> None:
    token = registered(portal, org)
    clock.advance(dt.timedelta(hours=portal.settings.verification_token_ttl_hours, seconds=-1))
    assert client.post(f"/verify/{token}").status_code == 200
