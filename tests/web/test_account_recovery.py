"""Getting back in over HTTP: "forgot your password", a new activation link, the reset link."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from db.enums import Locale, MembershipStatus, PersonStatus, Role, TokenPurpose
from db.models import AuditEvent, Membership, Message, Person, VerificationToken
from domain.accounts import activation, recovery
from domain.clock import FixedClock
from domain.context import App
from domain.settings import Settings
from portal.app import create_app
from tests.web.conftest import PASSWORD, make_organization
from tests.web.helpers import csrf, text_of

NEW_PASSWORD = "lanterns over the harbour at dusk"
ACTIVE = "active@aoshio.example"
PENDING = "pending@aoshio.example"
DISABLED = "disabled@aoshio.example"
UNKNOWN = "nobody@aoshio.example"


@dataclass(frozen=True)
class People:
    org: int
    ids: dict[str, int]


def add_person(
    portal: App,
    org_id: int,
    email: str,
    status: PersonStatus,
    password_hash: str | None,
    locale: Locale | None = None,
) -> int:
    with portal.unit_of_work() as session:
        person = Person(
            email=email,
            display_name=email.split("@")[0].title() + " Sato",
            password_hash=password_hash,
            status=status,
            locale=locale,
            created_at=portal.clock.now(),
            activated_at=portal.clock.now() if password_hash else None,
        )
        session.add(person)
        session.flush()
        session.add(
            Membership(
                person_id=person.id,
                organization_id=org_id,
                role=Role.NORMAL,
                status=(
                    MembershipStatus.DISABLED
                    if status is PersonStatus.DISABLED
                    else MembershipStatus.ACTIVE
                ),
                created_at=portal.clock.now(),
            )
        )
        return person.id


@pytest.fixture
def portal_settings(portal_settings: Settings) -> Settings:
    # Answers are not held back here, except in the test of exactly that.
    return portal_settings.model_copy(update={"account_recovery_min_seconds": 0.0})


@pytest.fixture
def people(portal: App, password_hash: str) -> People:
    org = make_organization(portal, password_hash, name="Aoshio Kaiun K.K.")
    ids = {
        ACTIVE: add_person(portal, org.id, ACTIVE, PersonStatus.ACTIVE, password_hash),
        PENDING: add_person(portal, org.id, PENDING, PersonStatus.PENDING_ACTIVATION, None),
        DISABLED: add_person(portal, org.id, DISABLED, PersonStatus.DISABLED, password_hash),
    }
    return People(org.id, ids)


def ask(client: TestClient, email: str) -> httpx.Response:
    response: httpx.Response = client.post(
        "/account/recover",
        data={"csrf_token": csrf(client, "/account/recover"), "email": email},
        follow_redirects=False,
    )
    return response


def messages(portal: App, to: str | None = None) -> list[Message]:
    with portal.unit_of_work() as session:
        query = select(Message).order_by(Message.id)
        if to is not None:
            query = query.where(Message.to_address == to)
        found = list(session.scalars(query))
        session.expunge_all()
        return found


def link_in(message: Message, path: str) -> str:
    found = re.search(rf"https?://\S+(/{path}/[A-Za-z0-9_-]+)", message.body_text)
    assert found, f"no /{path}/ link in:\n{message.body_text}"
    return found.group(1)


def log_in(client: TestClient, email: str, password: str) -> httpx.Response:
    response: httpx.Response = client.post(
        "/account/login",
        data={"csrf_token": csrf(client, "/account/login"), "email": email, "password": password},
        follow_redirects=False,
    )
    return response


def set_password(client: TestClient, link: str, password: str) -> httpx.Response:
    response: httpx.Response = client.post(
        link, data={"password": password, "confirmation": password}, follow_redirects=False
    )
    return response


def test_the_log_in_page_leads_to_the_form_which_needs_its_csrf_token(
    client: TestClient, people: People, portal: App
) -> None:
    login_page = client.get("/account/login").text
    assert 'href="/account/recover"' in login_page
    assert "Forgot your password? Didn't get the email to set it?" in text_of(login_page)
    form = client.get("/account/recover")
    assert form.status_code == 200 and 'name="csrf_token"' in form.text
    forged = client.post("/account/recover", data={"email": ACTIVE}, follow_redirects=False)
    assert forged.status_code == 403
    wrong = client.post(
        "/account/recover", data={"csrf_token": "x" * 40, "email": ACTIVE}, follow_redirects=False
    )
    assert wrong.status_code == 403
    assert messages(portal) == []


def test_every_address_gets_the_same_answer(
    client: TestClient, people: People, portal: App
) -> None:
    answers = {}
    for address in (ACTIVE, PENDING, DISABLED, UNKNOWN):
        posted = ask(client, address)
        page = client.get(posted.headers.get("location", ""), follow_redirects=False)
        answers[address] = (
            posted.status_code,
            posted.headers.get("location"),
            page.status_code,
            text_of(page.text).replace(address, "ADDRESS"),
        )
    assert len(set(answers.values())) == 1, answers
    status, location, page_status, text = answers[UNKNOWN]
    assert (status, page_status) == (303, 200) and str(location).endswith("/account/recover/sent")
    assert "If an account exists for ADDRESS , we have sent it an email with a link" in text
    # Behind the one answer: a reset link, a new activation link, and nothing for the others.
    assert [(m.to_address, m.template) for m in messages(portal)] == [
        (ACTIVE, "password_reset"),
        (PENDING, "activation_resent"),
    ]
    # A mistyped address is a form error, whatever the database holds.
    bad = ask(client, "not an address")
    assert bad.status_code == 422 and "not a valid email address" in bad.text
    assert ask(client, "").status_code == 422


def test_every_answer_takes_as_long(portal: App, people: People) -> None:
    floor = 0.3
    held = App(
        settings=portal.settings.model_copy(update={"account_recovery_min_seconds": floor}),
        engine=portal.engine,
        clock=portal.clock,
    )
    with TestClient(create_app(context=held)) as client:
        token = csrf(client, "/account/recover")
        for address in (UNKNOWN, DISABLED, ACTIVE, PENDING):
            started = time.monotonic()
            answer = client.post(
                "/account/recover",
                data={"csrf_token": token, "email": address},
                follow_redirects=False,
            )
            elapsed = time.monotonic() - started
            assert answer.status_code == 303 and elapsed >= floor, (address, elapsed)
    assert len(messages(portal)) == 2  # the work was done, not skipped


def test_requests_are_throttled_per_address_and_per_client(
    client: TestClient, people: People, portal: App, clock: FixedClock
) -> None:
    for _ in range(recovery.PER_ADDRESS.max_events):
        assert ask(client, UNKNOWN).status_code == 303
    refused = ask(client, UNKNOWN)
    assert refused.status_code == 429
    assert "please wait 60 minutes" in text_of(refused.text)
    # An address with an account is limited exactly alike (the limit tells nothing).
    for _ in range(recovery.PER_ADDRESS.max_events):
        assert ask(client, ACTIVE).status_code == 303
    assert ask(client, ACTIVE).status_code == 429
    assert len(messages(portal, ACTIVE)) == 1  # one email: the rest were repeats
    clock.advance(minutes=61)
    assert ask(client, UNKNOWN).status_code == 303
    # Per client: many addresses from one place (one request so far in this window).
    for number in range(recovery.PER_CLIENT.max_events - 1):
        assert ask(client, f"someone{number}@aoshio.example").status_code == 303
    flooded = ask(client, "one.more@aoshio.example")
    assert flooded.status_code == 429 and "several links in a short time" in flooded.text


def test_a_person_without_a_password_gets_a_fresh_activation_link(
    client: TestClient, people: People, portal: App, clock: FixedClock
) -> None:
    with portal.unit_of_work() as session:
        person = session.get_one(Person, people.ids[PENDING])
        first = activation.issue(
            session, clock, portal.settings, person, locale=Locale.EN, actor="test"
        )
    old_link = f"/activate/{first}"
    assert client.get(old_link).status_code == 200
    ask(client, PENDING)  # the migration's email has only just been queued: nothing more
    assert len(messages(portal, PENDING)) == 1
    clock.advance(days=2)  # and never arrived
    ask(client, PENDING)
    [_, requested] = messages(portal, PENDING)
    assert requested.template == "activation_resent"
    assert "We received a request for a new link" in requested.body_text
    assert "Aoshio Kaiun K.K. (Normal User)" in requested.body_text
    new_link = link_in(requested, "activate")
    dead = client.get(old_link)
    assert dead.status_code == 410 and "ask for a new link" in text_of(dead.text)
    assert 'href="/account/recover"' in dead.text
    ask(client, PENDING)  # a double submit: the first email is on its way, nothing more
    assert len(messages(portal, PENDING)) == 2
    done = set_password(client, new_link, NEW_PASSWORD)
    assert done.status_code == 303 and done.headers["location"].endswith("/hub")
    assert "Welcome" in text_of(client.get("/hub").text)
    again = set_password(client, old_link, "someone else's passphrase")
    assert again.status_code == 200 and "Your password is already set" in again.text
    client.post("/logout", data={"csrf_token": csrf(client, "/hub")})
    assert log_in(client, PENDING, NEW_PASSWORD).status_code == 303


def test_a_password_reset_ends_other_sessions_and_works_once(
    portal: App, people: People, clock: FixedClock
) -> None:
    with (
        TestClient(create_app(context=portal)) as elsewhere,
        TestClient(create_app(context=portal)) as here,
    ):
        assert log_in(elsewhere, ACTIVE, PASSWORD).status_code == 303
        assert elsewhere.get("/hub").status_code == 200
        for _ in range(5):  # someone has been guessing: the address is locked
            log_in(here, ACTIVE, "a wrong guess of it")
        assert log_in(here, ACTIVE, PASSWORD).status_code == 429
        ask(here, ACTIVE)
        [email] = messages(portal, ACTIVE)
        assert email.template == "password_reset" and email.subject.endswith(
            "Choose a new password"
        )
        link = link_in(email, "reset-password")
        page = here.get(link)
        assert page.status_code == 200 and ACTIVE in page.text
        assert page.text == here.get(link).text  # looking consumes nothing
        weak = set_password(here, link, "password1234567")
        assert weak.status_code == 422 and "too common" in weak.text
        done = set_password(here, link, NEW_PASSWORD)
        assert done.status_code == 303 and done.headers["location"].endswith("/hub")
        hub = here.get("/hub")
        assert (
            hub.status_code == 200 and "You have been logged out on your other devices" in hub.text
        )
        # The session made with the old password is over.
        ended = elsewhere.get("/hub", follow_redirects=False)
        assert ended.status_code == 303 and ended.headers["location"].endswith("/account/login")
        assert log_in(elsewhere, ACTIVE, PASSWORD).status_code == 200  # old password: refused
        assert log_in(elsewhere, ACTIVE, NEW_PASSWORD).status_code == 303  # lock cleared too
        again = set_password(here, link, "another fine passphrase here")
        assert again.status_code == 410
        assert "This link is no longer valid" in again.text and ACTIVE not in again.text
        unknown = here.get("/reset-password/" + "A" * 43)
        assert unknown.status_code == 404 and "We do not recognize this link" in unknown.text
    with portal.unit_of_work() as session:
        actions = list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.entity_id == people.ids[ACTIVE])
                .order_by(AuditEvent.id)
            )
        )
        token = session.scalars(
            select(VerificationToken).where(
                VerificationToken.purpose == TokenPurpose.RESET_PASSWORD
            )
        ).one()
    assert "person.password_reset_link_issued" in actions and "person.password_reset" in actions
    assert token.used_at is not None and token.token_hash not in email.body_text


def test_a_reset_link_expires(
    client: TestClient, people: People, portal: App, clock: FixedClock
) -> None:
    ask(client, ACTIVE)
    [email] = messages(portal, ACTIVE)
    link = link_in(email, "reset-password")
    clock.advance(hours=portal.settings.password_reset_token_ttl_hours, seconds=1)
    expired = client.get(link)
    assert expired.status_code == 410 and ACTIVE not in expired.text
    assert set_password(client, link, NEW_PASSWORD).status_code == 410
    assert log_in(client, ACTIVE, PASSWORD).status_code == 303  # the password is unchanged


def test_a_newer_request_replaces_the_link_and_a_disabled_account_gets_nothing(
    client: TestClient, people: People, portal: App, clock: FixedClock
) -> None:
    ask(client, ACTIVE)
    clock.advance(minutes=recovery.RESEND_AFTER.total_seconds() / 60 + 1)
    ask(client, ACTIVE)
    first, second = (link_in(m, "reset-password") for m in messages(portal, ACTIVE))
    assert first != second
    assert client.get(first).status_code == 410
    with portal.unit_of_work() as session:  # the wave is rolled back: the account is off
        session.get_one(Person, people.ids[ACTIVE]).status = PersonStatus.DISABLED
    assert client.get(second).status_code == 410
    assert set_password(client, second, NEW_PASSWORD).status_code == 410


def test_a_cross_site_post_to_a_reset_link_is_refused(
    client: TestClient, people: People, portal: App
) -> None:
    ask(client, ACTIVE)
    link = link_in(messages(portal, ACTIVE)[0], "reset-password")
    refused = client.post(
        link,
        data={"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert refused.status_code == 403
    assert client.get(link).status_code == 200  # still unused


def test_recovery_speaks_japanese(
    client: TestClient, portal: App, password_hash: str, ja_org: object
) -> None:
    org_id = ja_org.id  # type: ignore[attr-defined]
    add_person(portal, org_id, "hanako@aoshio.example.jp", PersonStatus.ACTIVE, password_hash)
    add_person(
        portal, org_id, "taro@aoshio.example.jp", PersonStatus.PENDING_ACTIVATION, None, Locale.JA
    )
    client.get("/language/ja")
    assert "パスワードをお忘れの方" in client.get("/account/login").text
    form = client.get("/account/recover")
    assert "ログインに使用しているメールアドレスを入力してください" in form.text
    sent = client.get(ask(client, "hanako@aoshio.example.jp").headers["location"])
    assert "のアカウントが存在する場合は" in sent.text
    ask(client, "taro@aoshio.example.jp")
    reset, activation_email = messages(portal)
    # The organization's language for a person without one; the person's own otherwise.
    assert reset.locale is Locale.JA and "パスワード再設定" in reset.subject
    assert activation_email.locale is Locale.JA and "再送" in activation_email.subject
    page = client.get(link_in(reset, "reset-password"))
    assert "新しいパスワードの設定" in page.text
    assert "ほかの端末やブラウザでのログインはすべて解除されます" in page.text
    refused = client.get("/reset-password/" + "B" * 43)
    assert "新しいリンクをご依頼ください" in refused.text
