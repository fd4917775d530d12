from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.enums import Locale, RegistrationStatus, Role
from db.models import AuditEvent, Message, Registration, VerificationToken
from domain.clock import FixedClock
from domain.context import App
from domain.registration import withdraw
from domain.tokens import token_hash
from domain.verification import LinkState, confirm, expire_stale, inspect, issue_link
from tests import factories


def _registered(app: App, session: Session, *, locale: Locale = Locale.EN) -> Registration:
    org = factories.organization(
        session, app.clock, name="Kaiun Shipping", locale=locale, domains=("kaiun.example",)
    )
    if locale is Locale.JA:
        org.name_local = "海運汽船株式会社"
    return factories.registration(
        session, app.clock, app.calendar, org, "hanako@kaiun.example", role=Role.ADMINISTRATOR
    )


def _link(message: Message) -> str:
    match = re.search(r"/verify/([A-Za-z0-9_-]+)", message.body_text)
    assert match, message.body_text
    return match.group(1)


def test_issuing_a_link_stores_only_its_hash_and_queues_the_email(
    app: App, session: Session
) -> None:
    reg = _registered(app, session)
    raw = issue_link(session, app.clock, app.settings, reg)
    session.commit()

    token = session.scalars(select(VerificationToken)).one()
    assert token.token_hash == token_hash(raw)
    assert raw not in token.token_hash
    assert len(raw) >= 43  # 256 bits, url-safe base64
    assert token.expires_at == app.clock.now() + dt.timedelta(
        hours=app.settings.verification_token_ttl_hours
    )
    message = session.scalars(select(Message)).one()
    assert message.to_address == "hanako@kaiun.example"
    assert message.template == "verification"
    assert message.registration_id == reg.id
    assert _link(message) == raw
    assert app.settings.public_url(f"verify/{raw}") in message.body_html


def test_japanese_organizations_get_japanese_mail(app: App, session: Session) -> None:
    reg = _registered(app, session, locale=Locale.JA)
    issue_link(session, app.clock, app.settings, reg)
    message = session.scalars(select(Message)).one()
    assert message.locale is Locale.JA
    assert "海運汽船株式会社" in message.body_text


def test_looking_at_a_link_consumes_nothing(app: App, session: Session) -> None:
    reg = _registered(app, session)
    raw = issue_link(session, app.clock, app.settings, reg)
    session.commit()
    for _ in range(3):  # a mail gateway's scanner, then the person
        view = inspect(session, app.clock, raw)
        assert view.state is LinkState.VALID
        assert view.person_name == "Taro Yamada"
        assert view.organization_name == "Kaiun Shipping"
    assert session.scalars(select(VerificationToken.used_at)).one() is None


def test_confirming_verifies_once_and_then_says_already_verified(
    app: App, session: Session, clock: FixedClock
) -> None:
    reg = _registered(app, session)
    raw = issue_link(session, app.clock, app.settings, reg)
    session.commit()
    clock.advance(hours=2)
    first = confirm(session, app.clock, raw, client="203.0.113.9")
    session.commit()
    assert first.state is LinkState.ALREADY_VERIFIED
    assert first.confirmed_now
    assert first.verified_at == clock.now()
    session.refresh(reg)
    assert reg.status is RegistrationStatus.VERIFIED
    assert reg.verified_at == clock.now()

    clock.advance(days=1)
    again = confirm(session, app.clock, raw)
    assert again.state is LinkState.ALREADY_VERIFIED
    assert again.verified_at == first.verified_at
    assert not again.confirmed_now
    assert inspect(session, app.clock, raw).state is LinkState.ALREADY_VERIFIED
    verified_events = session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "registration.verified")
    )
    assert verified_events == 1


def test_expired_and_replaced_links(app: App, session: Session, clock: FixedClock) -> None:
    reg = _registered(app, session)
    old = issue_link(session, app.clock, app.settings, reg)
    new = issue_link(session, app.clock, app.settings, reg)
    session.commit()
    assert inspect(session, app.clock, old).state is LinkState.EXPIRED
    assert confirm(session, app.clock, old).state is LinkState.EXPIRED
    assert inspect(session, app.clock, new).state is LinkState.VALID

    clock.advance(hours=app.settings.verification_token_ttl_hours, seconds=1)
    assert confirm(session, app.clock, new).state is LinkState.EXPIRED
    session.refresh(reg)
    assert reg.status is RegistrationStatus.PENDING


@pytest.mark.parametrize("raw", ["", "x", "../../etc/passwd", "A" * 43, "é" * 40])
def test_unknown_links_reveal_nothing(app: App, session: Session, raw: str) -> None:
    view = inspect(session, app.clock, raw)
    assert view.state is LinkState.UNKNOWN
    assert view.person_name is None
    assert view.organization_name is None
    assert view.email is None
    assert confirm(session, app.clock, raw).state is LinkState.UNKNOWN


def test_withdrawn_registration_kills_its_link(app: App, session: Session) -> None:
    reg = _registered(app, session)
    raw = issue_link(session, app.clock, app.settings, reg)
    withdraw(session, app.clock, registration=reg, actor="org:TEST")
    session.commit()
    assert inspect(session, app.clock, raw).state is LinkState.WITHDRAWN
    assert confirm(session, app.clock, raw).state is LinkState.WITHDRAWN
    session.refresh(reg)
    assert reg.status is RegistrationStatus.WITHDRAWN


def test_stale_registrations_expire_and_can_be_resent(
    app: App, session: Session, clock: FixedClock
) -> None:
    reg = _registered(app, session)
    issue_link(session, app.clock, app.settings, reg)
    never_sent = factories.registration(
        session, app.clock, app.calendar, reg.organization, "other@kaiun.example"
    )
    session.commit()
    assert expire_stale(session, app.clock) == 0
    clock.advance(hours=app.settings.verification_token_ttl_hours + 1)
    assert expire_stale(session, app.clock) == 1
    session.commit()
    session.refresh(reg)
    session.refresh(never_sent)
    assert reg.status is RegistrationStatus.EXPIRED
    assert never_sent.status is RegistrationStatus.PENDING  # dispatch has not sent it yet

    raw = issue_link(session, app.clock, app.settings, reg)
    session.commit()
    assert reg.status.value == "pending"
    assert confirm(session, app.clock, raw).state is LinkState.ALREADY_VERIFIED


def test_a_click_proves_a_bounced_address_works(app: App, session: Session) -> None:
    reg = _registered(app, session)
    raw = issue_link(session, app.clock, app.settings, reg)
    reg.status = RegistrationStatus.BOUNCED
    reg.bounce_reason = "552 mailbox full"
    session.commit()
    assert confirm(session, app.clock, raw).state is LinkState.ALREADY_VERIFIED
    session.refresh(reg)
    assert reg.status is RegistrationStatus.VERIFIED


def test_two_confirmations_at_once_verify_exactly_once(app: App) -> None:
    with app.unit_of_work() as session:
        reg = _registered(app, session)
        raw = issue_link(session, app.clock, app.settings, reg)

    states: list[tuple[LinkState, bool]] = []
    barrier = threading.Barrier(2)

    def click() -> None:
        barrier.wait()
        with app.unit_of_work() as session:
            view = confirm(session, app.clock, raw)
            states.append((view.state, view.confirmed_now))

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(states) == [
        (LinkState.ALREADY_VERIFIED, False),
        (LinkState.ALREADY_VERIFIED, True),
    ]
    with app.sessions() as session:
        events = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "registration.verified")
        )
        assert events == 1
