"""The pre-registration page: list, add (with errors, warnings, duplicates), resend, withdraw."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from db.enums import RegistrationStatus, Role
from db.models import Message, Organization, Registration, VerificationToken
from domain.clock import FixedClock
from domain.context import App
from tests import factories
from tests.conftest import TOKYO
from tests.web.conftest import make_organization
from tests.web.helpers import csrf, log_in, post_form, text_of


def add(client: TestClient, **fields: str) -> tuple[int, str]:
    data = {"name": "Yuki Tanaka", "email": "yuki@owner.example", "role": "administrator"}
    response = post_form(client, "/registrations", data | fields, "/registrations")
    return response.status_code, text_of(response.text)


def registrations_of(portal: App, organization: Organization) -> list[Registration]:
    with portal.sessions() as session:
        return list(
            session.scalars(
                select(Registration)
                .where(Registration.organization_id == organization.id)
                .order_by(Registration.id)
            )
        )


def messages_to(portal: App, address: str) -> list[Message]:
    with portal.sessions() as session:
        return list(session.scalars(select(Message).where(Message.to_address == address)))


def test_adding_a_person_records_it_and_sends_the_link_at_once(
    client: TestClient, org: Organization, portal: App
) -> None:
    log_in(client, org.legacy_login_id)
    status, text = add(client)
    assert status == 200
    assert "Yuki Tanaka has been registered" in text
    assert "Pending verification" in text
    [registration] = registrations_of(portal, org)
    assert registration.status is RegistrationStatus.PENDING
    assert registration.role is Role.ADMINISTRATOR
    assert registration.submitted_by == f"org:{org.legacy_login_id}"
    [message] = messages_to(portal, "yuki@owner.example")
    assert message.template == "verification"
    assert "/verify/" in message.body_text


def test_errors_are_shown_beside_their_fields(client: TestClient, org: Organization) -> None:
    log_in(client, org.legacy_login_id)
    status, text = add(client, name="  ", email="yuki@@owner", role="captain")
    assert status == 422
    assert "Enter the person's name." in text
    assert "Choose an account type." in text
    assert "This email address cannot be used" in text


def test_a_duplicate_within_the_organization_is_refused(
    client: TestClient, org: Organization, portal: App
) -> None:
    log_in(client, org.legacy_login_id)
    add(client)
    status, text = add(client, email="Yuki@Owner.example", name="Y. Tanaka")
    assert status == 422
    assert "yuki@owner.example is already registered for your organization" in text
    assert len(registrations_of(portal, org)) == 1


def test_a_person_of_another_organization_is_accepted_with_a_note(
    client: TestClient, org: Organization, portal: App, password_hash: str
) -> None:
    other = make_organization(portal, password_hash, domains=("owner.example",))
    log_in(client, other.legacy_login_id)
    add(client)
    log_in(client, org.legacy_login_id)
    status, text = add(client)
    assert status == 200
    assert "also registered by another organization" in text
    assert len(registrations_of(portal, org)) == 1


def test_warnings_need_an_explicit_submit_anyway(
    client: TestClient, org: Organization, portal: App
) -> None:
    log_in(client, org.legacy_login_id)
    status, text = add(client, email="yuki.tanaka@gmail.com")
    assert status == 200
    assert "gmail.com is a free-mail service" in text
    assert "Submit anyway" in text
    assert registrations_of(portal, org) == []
    # Confirming a different address than the one warned about asks again.
    add(client, email="yuki.tanaka@yahoo.co.jp", confirmed_email="yuki.tanaka@gmail.com")
    assert registrations_of(portal, org) == []
    status, text = add(
        client, email="yuki.tanaka@gmail.com", confirmed_email="yuki.tanaka@gmail.com"
    )
    assert "has been registered" in text
    assert [r.email for r in registrations_of(portal, org)] == ["yuki.tanaka@gmail.com"]


def test_a_domain_outside_the_organization_is_a_warning(
    client: TestClient, org: Organization, portal: App
) -> None:
    log_in(client, org.legacy_login_id)
    _, text = add(client, email="yuki@partner.example")
    assert "partner.example is not one of your organization's known email domains" in text
    assert "(owner.example)" in text
    assert registrations_of(portal, org) == []


def test_a_typo_suggestion_is_one_click_away(
    client: TestClient, org: Organization, portal: App
) -> None:
    log_in(client, org.legacy_login_id)
    page = post_form(
        client,
        "/registrations",
        {"name": "Yuki Tanaka", "email": "yuki@owner.exmaple", "role": "normal"},
        "/registrations",
    )
    assert "Did you mean yuki@owner.example?" in text_of(page.text)
    assert 'name="use_suggestion" value="yuki@owner.example"' in page.text
    accepted = post_form(
        client,
        "/registrations",
        {
            "name": "Yuki Tanaka",
            "email": "yuki@owner.exmaple",
            "role": "normal",
            "use_suggestion": "yuki@owner.example",
        },
        "/registrations",
    )
    assert "has been registered" in text_of(accepted.text)
    assert [r.email for r in registrations_of(portal, org)] == ["yuki@owner.example"]


def test_the_banner_shows_until_an_administrator_is_verified(
    client: TestClient, org: Organization, portal: App
) -> None:
    log_in(client, org.legacy_login_id)
    banner = "Your organization has no verified Administrator yet."
    assert banner in client.get("/registrations").text
    add(client, role="administrator")
    with portal.unit_of_work() as session:
        registration = session.scalars(select(Registration)).one()
        registration.status = RegistrationStatus.VERIFIED
        registration.verified_at = portal.clock.now()
    page = client.get("/registrations").text
    assert banner not in page
    assert "Verified" in page


def test_withdrawing_a_pending_registration(
    client: TestClient, org: Organization, portal: App
) -> None:
    log_in(client, org.legacy_login_id)
    add(client)
    [registration] = registrations_of(portal, org)
    response = post_form(client, f"/registrations/{registration.id}/withdraw", {}, "/registrations")
    assert "has been withdrawn" in text_of(response.text)
    [registration] = registrations_of(portal, org)
    assert registration.status is RegistrationStatus.WITHDRAWN
    with portal.sessions() as session:
        live = session.scalar(
            select(func.count())
            .select_from(VerificationToken)
            .where(VerificationToken.revoked_at.is_(None))
        )
    assert live == 0
    # The address is free again.
    assert "has been registered" in add(client)[1]


def test_a_verified_registration_cannot_be_withdrawn(
    client: TestClient, org: Organization, portal: App
) -> None:
    log_in(client, org.legacy_login_id)
    add(client)
    with portal.unit_of_work() as session:
        registration = session.scalars(select(Registration)).one()
        registration.status = RegistrationStatus.VERIFIED
        registration.verified_at = portal.clock.now()
    response = post_form(client, f"/registrations/{registration.id}/withdraw", {}, "/registrations")
    assert "Only a registration that is not yet verified can be withdrawn." in response.text
    assert registrations_of(portal, org)[0].status is RegistrationStatus.VERIFIED


def test_resending_is_rate_limited(
    client: TestClient, org: Organization, portal: App, clock: FixedClock
) -> None:
    log_in(client, org.legacy_login_id)
    add(client)
    [registration] = registrations_of(portal, org)
    path = f"/registrations/{registration.id}/resend"

    too_soon = text_of(post_form(client, path, {}, "/registrations").text)
    assert "a few minutes ago" in too_soon and "in 10 min" in too_soon
    assert len(messages_to(portal, "yuki@owner.example")) == 1

    for sent in range(2, 7):
        clock.advance(minutes=10)
        page = text_of(post_form(client, path, {}, "/registrations").text)
        assert "A new verification email is on its way" in page
        assert len(messages_to(portal, "yuki@owner.example")) == sent
    clock.advance(minutes=10)
    refused = text_of(post_form(client, path, {}, "/registrations").text)
    assert "five times today" in refused
    assert len(messages_to(portal, "yuki@owner.example")) == 6
    clock.advance(hours=24)
    log_in(client, org.legacy_login_id)  # a log-in lasts a working day
    assert "on its way" in text_of(post_form(client, path, {}, "/registrations").text)


def test_another_organizations_registration_is_not_found(
    client: TestClient, org: Organization, portal: App, password_hash: str
) -> None:
    other = make_organization(portal, password_hash)
    with portal.unit_of_work() as session:
        foreign = factories.registration(
            session, portal.clock, portal.calendar, other, "mate@owner.example"
        )
    log_in(client, org.legacy_login_id)
    token = csrf(client, "/registrations")
    for action in ("withdraw", "resend"):
        response = client.post(f"/registrations/{foreign.id}/{action}", data={"csrf_token": token})
        assert response.status_code == 404
    assert registrations_of(portal, other)[0].status is RegistrationStatus.PENDING


def test_before_the_window_the_page_gives_the_dates(
    client: TestClient, org: Organization, clock: FixedClock
) -> None:
    clock.set(dt.datetime(2025, 6, 14, 23, 0, tzinfo=TOKYO))
    log_in(client, org.legacy_login_id)
    page = text_of(client.get("/registrations").text)
    assert "Pre-registration has not opened yet" in page
    assert "opens on 15 June 2025 and runs until 14 September 2025" in page
    assert "cch-portal@classnk.or.jp" in page
    assert "Add a person" not in page
    _, text = add(client)
    assert "Pre-registration is not open" in text


def test_after_the_close_the_page_points_to_the_helpdesk(
    client: TestClient, org: Organization, portal: App, clock: FixedClock
) -> None:
    log_in(client, org.legacy_login_id)
    add(client)
    clock.set(dt.datetime(2025, 9, 15, 0, 0, tzinfo=TOKYO))
    log_in(client, org.legacy_login_id)
    page = text_of(client.get("/registrations").text)
    assert "Pre-registration has closed" in page
    assert "ran from 15 June 2025 to 14 September 2025" in page
    assert "please contact the helpdesk" in page
    assert "yuki@owner.example" in page  # what was registered stays visible
    assert "Add a person" not in page
    _, text = add(client, email="late@owner.example")
    assert "Pre-registration is not open" in text
    assert len(registrations_of(portal, org)) == 1


def test_after_the_switch_nothing_can_be_changed(
    client: TestClient, org: Organization, portal: App, clock: FixedClock
) -> None:
    log_in(client, org.legacy_login_id)
    add(client)
    [registration] = registrations_of(portal, org)
    clock.set(dt.datetime(2025, 9, 28, 9, 0, tzinfo=TOKYO))
    log_in(client, org.legacy_login_id)
    page = text_of(client.get("/registrations").text)
    assert "Individual log-ins are in use" in page
    assert "Resend link" not in page
    response = post_form(client, f"/registrations/{registration.id}/withdraw", {}, "/registrations")
    assert "can no longer be changed here" in text_of(response.text)
    assert registrations_of(portal, org)[0].status is RegistrationStatus.PENDING


def test_an_organization_name_with_markup_is_shown_as_text(
    client: TestClient, portal: App, password_hash: str
) -> None:
    hostile = make_organization(portal, password_hash, name="<script>alert('x')</script> Lines")
    log_in(client, hostile.legacy_login_id)
    page = client.get("/registrations").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Lines" in page
    status, _ = add(client, name="<img src=x onerror=alert(1)>")
    assert status == 200
    assert "<img src=x" not in client.get("/registrations").text


def test_the_page_needs_a_log_in(client: TestClient) -> None:
    response = client.get("/registrations", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].endswith("/login")
    assert "Please log in" in client.get("/login").text


def test_the_page_follows_the_organizations_language(
    client: TestClient, ja_org: Organization, portal: App
) -> None:
    with portal.unit_of_work() as session:
        session.get_one(Organization, ja_org.id).name_local = "青潮海運株式会社"
    log_in(client, ja_org.legacy_login_id)
    page = client.get("/registrations", headers={"Accept-Language": "en"}).text
    assert '<html lang="ja">' in page
    assert "利用者を追加" in page
    assert (
        "事前登録は<strong>2025年9月14日(日)</strong>まで受け付けています。残り75日です。" in page
    )
    assert "<h1>青潮海運株式会社</h1>" in page
    assert 'class="account-org" href="/registrations" title="青潮海運株式会社"' in page
    # An explicit choice wins over the organization's language.
    client.get("/language/en?next=/registrations")
    english = client.get("/registrations").text
    assert "Add a person" in english
    assert "<h1>Aoshio Kaiun K.K.</h1>" in english
    assert "open until <strong>14 September 2025</strong>. 75 days left." in english
