"""The helpdesk's contact form: stored, matched, acknowledged; bots and floods kept out."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from db.enums import HelpdeskCategory, HelpdeskChannel, Locale
from db.models import HelpdeskContact, Message, Organization
from domain.clock import FixedClock
from domain.context import App
from tests import factories
from tests.web.helpers import csrf, text_of

FORM = {
    "name": "Kenji Mori",
    "email": "kenji.mori@owner.example",
    "organization": "",
    "category": "email_not_received",
    "message": "The verification email never arrived.\nWe checked the spam folder.",
}


def send(client: TestClient, headers: dict[str, str] | None = None, **fields: str) -> str:
    token = csrf(client, "/contact")
    response = client.post(
        "/contact", data={"csrf_token": token, **FORM, **fields}, headers=headers or {}
    )
    assert response.status_code in (200, 422, 429), response.status_code
    return text_of(response.text)


def contacts(portal: App) -> list[HelpdeskContact]:
    with portal.sessions() as session:
        return list(session.scalars(select(HelpdeskContact).order_by(HelpdeskContact.id)))


def test_the_page_shows_the_contact_details_and_the_form(client: TestClient) -> None:
    page = client.get("/contact")
    text = text_of(page.text)
    assert "Address and contact details" in text
    assert "CCH Portal Account Helpdesk" in text
    assert 'href="mailto:cch-portal@classnk.or.jp"' in page.text
    assert 'name="website"' in page.text  # the honeypot, hidden by CSS and from screen readers
    assert "The verification email did not arrive" in text


def test_a_request_is_stored_matched_and_acknowledged(
    client: TestClient, org: Organization, portal: App
) -> None:
    text = send(client)
    assert "Thank you for your message" in text
    assert "Your reference number is HD-2025-000001" in text
    [contact] = contacts(portal)
    assert contact.channel is HelpdeskChannel.FORM
    assert contact.category is HelpdeskCategory.EMAIL_NOT_RECEIVED
    assert contact.sender_email == "kenji.mori@owner.example"
    assert contact.organization_id == org.id  # by the known domain owner.example
    assert contact.body.endswith("We checked the spam folder.")
    with portal.sessions() as session:
        [ack] = session.scalars(select(Message)).all()
    assert ack.template == "helpdesk_acknowledgement"
    assert ack.to_address == "kenji.mori@owner.example"
    assert "HD-2025-000001" in ack.subject + ack.body_text
    assert "We checked the spam folder." in ack.body_text


def test_the_acknowledgement_is_in_the_visitors_language(client: TestClient, portal: App) -> None:
    client.get("/language/ja?next=/contact")
    text = send(client)
    assert "お問い合わせを受け付けました" in text
    with portal.sessions() as session:
        ack = session.scalars(select(Message)).one()
    assert ack.locale is Locale.JA


def test_a_reload_of_the_thank_you_page_does_not_repeat_it(client: TestClient) -> None:
    send(client)
    again = client.get("/contact/sent", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].endswith("/contact")


def test_the_honeypot_thanks_a_bot_and_keeps_nothing(client: TestClient, portal: App) -> None:
    text = send(client, website="https://cheap-pills.example")
    assert "Thank you for your message" in text
    assert "reference number" not in text
    assert contacts(portal) == []
    with portal.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0


def test_errors_are_shown_and_nothing_is_stored(client: TestClient, portal: App) -> None:
    text = send(client, name=" ", email="kenji@", category="", message="   ")
    # Every problem at once, each beside its field.
    assert "Enter your name." in text
    assert "Enter a valid email address so that we can reply" in text
    assert "Choose what your request is about." in text
    assert "Write your message." in text
    blank = send(client, email="")
    assert "Enter your email address so that we can reply." in blank
    no_category = send(client, category="complaint")
    assert "Choose what your request is about." in no_category
    no_message = send(client, message=" ")
    assert "Write your message." in no_message
    too_long = send(client, message="x" * 10_001)
    assert "at most 10000 characters" in too_long
    assert contacts(portal) == []


def test_one_address_may_write_five_times_an_hour(
    client: TestClient, portal: App, clock: FixedClock
) -> None:
    for _ in range(5):
        assert "Thank you" in send(client)
    refused = send(client)
    assert "several messages from you within the last hour" in refused
    assert len(contacts(portal)) == 5
    clock.advance(minutes=61)
    assert "Thank you" in send(client)


def test_one_client_may_send_ten_an_hour(client: TestClient, portal: App) -> None:
    for number in range(10):
        assert "Thank you" in send(client, email=f"person{number}@owner.example")
    assert "several messages" in send(client, email="someone.else@owner.example")
    assert len(contacts(portal)) == 10


def test_a_cross_site_post_is_refused(client: TestClient, portal: App) -> None:
    token = csrf(client, "/contact")
    response = client.post(
        "/contact",
        data={"csrf_token": token, **FORM},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert contacts(portal) == []


def test_the_organization_named_is_kept_even_without_a_match(
    client: TestClient, portal: App
) -> None:
    send(client, email="someone@unknown-shipping.example", organization=" Unknown  Shipping ")
    [contact] = contacts(portal)
    assert contact.organization_name_given == "Unknown Shipping"
    assert contact.organization_id is None


def test_markup_in_a_message_is_stored_as_written_and_shown_as_text(
    client: TestClient, portal: App
) -> None:
    text = send(client, name="<b>Kenji</b>", message="<script>alert(1)</script>")
    assert "Thank you" in text
    assert contacts(portal)[0].body == "<script>alert(1)</script>"
    with portal.sessions() as session:
        ack = session.scalars(select(Message)).one()
    assert "<script>alert(1)</script>" not in ack.body_html


def test_a_registered_address_matches_its_organization(
    client: TestClient, org: Organization, portal: App, password_hash: str
) -> None:
    with portal.unit_of_work() as session:
        other = factories.organization(
            session, portal.clock, password_hash=password_hash, domains=("other.example",)
        )
        factories.registration(session, portal.clock, portal.calendar, other, "kenji@gmail.com")
    send(client, email="Kenji@gmail.com")
    assert contacts(portal)[0].organization_id == other.id
