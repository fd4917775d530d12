"""Verification dispatch rules: first links, the optional MX check, expiry and the one nudge."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.enums import RegistrationStatus
from db.models import AuditEvent, Message, Registration, VerificationToken
from domain import dispatch
from domain.clock import FixedClock
from domain.context import App
from domain.deliverability import MxChecker, NoRecords, NoSuchDomain
from domain.settings import Settings
from tests import factories


def new_registration(app: App, session: Session, email: str = "taro@owner.example") -> Registration:
    org = factories.organization(session, app.clock, domains=("owner.example", "dead.example"))
    reg = factories.registration(session, app.clock, app.calendar, org, email)
    session.commit()
    return reg


def messages(session: Session) -> list[Message]:
    return list(session.scalars(select(Message).order_by(Message.id)))


def test_a_new_registration_gets_its_link_once(app: App, session: Session) -> None:
    reg = new_registration(app, session)
    batch = dispatch.send_links(session, app.clock, app.settings)
    session.commit()
    assert (batch.sent, batch.undeliverable, batch.seen) == (1, 0, 1)
    [message] = messages(session)
    assert message.template == "verification"
    assert message.registration_id == reg.id
    assert message.idempotency_key.startswith(f"verification:registration:{reg.id}:")
    assert session.scalars(select(VerificationToken)).one().registration_id == reg.id
    again = dispatch.send_links(session, app.clock, app.settings)
    session.commit()
    assert (again.sent, again.seen) == (0, 0)
    assert len(messages(session)) == 1


def test_a_dry_run_counts_and_changes_nothing(app: App, session: Session) -> None:
    new_registration(app, session)
    batch = dispatch.send_links(session, app.clock, app.settings, dry_run=True)
    session.rollback()
    assert batch.sent == 1
    assert messages(session) == []
    assert session.scalars(select(VerificationToken)).all() == []


def fake_dns(records: dict[tuple[str, str], list[str] | type[Exception]]) -> MxChecker:
    def lookup(domain: str, rdtype: str) -> list[str]:
        found = records.get((domain, rdtype), NoRecords)
        if isinstance(found, type):
            raise found(domain)
        return found

    return MxChecker(lookup)


def test_the_mx_check_holds_back_domains_that_cannot_receive_mail(
    app: App, session: Session
) -> None:
    good = new_registration(app, session, "taro@owner.example")
    bad = new_registration(app, session, "hanako@dead.example")
    checker = fake_dns(
        {("owner.example", "MX"): ["10 mx.owner.example."], ("dead.example", "MX"): NoSuchDomain}
    )
    batch = dispatch.send_links(session, app.clock, app.settings, checker=checker)
    session.commit()
    assert (batch.sent, batch.undeliverable) == (1, 1)
    assert batch.undeliverable_examples == [
        "hanako@dead.example: the domain dead.example does not exist"
    ]
    session.refresh(bad)
    session.refresh(good)
    assert bad.undeliverable_reason == "the domain dead.example does not exist"
    assert bad.status is RegistrationStatus.PENDING
    assert good.undeliverable_reason is None
    assert [m.to_address for m in messages(session)] == ["taro@owner.example"]
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "registration.undeliverable")
    ).one()
    assert event.entity_id == bad.id
    assert event.actor == "flow:verification-dispatch"
    # Held back for good: the next run does not look at it again.
    assert dispatch.send_links(session, app.clock, app.settings, checker=checker).seen == 0


def test_dns_trouble_never_holds_a_link_back(app: App, session: Session) -> None:
    new_registration(app, session)
    checker = fake_dns({("owner.example", "MX"): TimeoutError})
    batch = dispatch.send_links(session, app.clock, app.settings, checker=checker)
    assert (batch.sent, batch.undeliverable) == (1, 0)


def test_links_that_ran_out_expire_the_registration(
    app: App, session: Session, clock: FixedClock
) -> None:
    reg = new_registration(app, session)
    dispatch.send_links(session, app.clock, app.settings)
    session.commit()
    assert dispatch.stale_count(session, clock) == 0
    clock.advance(hours=app.settings.verification_token_ttl_hours + 1)
    assert dispatch.stale_count(session, clock) == 1
    assert dispatch.expire(session, clock) == 1
    session.commit()
    session.refresh(reg)
    assert reg.status is RegistrationStatus.EXPIRED
    # Expired registrations get no new link from dispatch: the organization resends it.
    assert dispatch.send_links(session, clock, app.settings).seen == 0


def test_one_nudge_after_the_configured_days(
    app: App, session: Session, clock: FixedClock, settings: Settings
) -> None:
    reg = new_registration(app, session)
    dispatch.send_links(session, clock, settings)
    session.commit()
    first_token = session.scalars(select(VerificationToken)).one()
    clock.advance(days=settings.unverified_nudge_after_days - 1)
    assert dispatch.send_nudges(session, clock, settings) == (0, 0)
    clock.advance(days=1)
    assert dispatch.send_nudges(session, clock, settings, dry_run=True) == (1, 1)
    session.rollback()
    assert dispatch.send_nudges(session, clock, settings) == (1, 1)
    session.commit()
    session.refresh(reg)
    session.refresh(first_token)
    assert reg.nudged_at == clock.now()
    assert first_token.revoked_at is not None  # the nudge's fresh link replaces it
    nudge = messages(session)[-1]
    assert nudge.template == "verification_nudge"
    assert nudge.to_address == "taro@owner.example"
    assert f"{settings.unverified_nudge_after_days} days" in nudge.body_text
    clock.advance(days=3)
    assert dispatch.send_nudges(session, clock, settings) == (0, 0)


@pytest.mark.parametrize("status", [RegistrationStatus.VERIFIED, RegistrationStatus.WITHDRAWN])
def test_settled_registrations_are_left_alone(
    app: App, session: Session, clock: FixedClock, status: RegistrationStatus
) -> None:
    reg = new_registration(app, session)
    dispatch.send_links(session, clock, app.settings)
    reg.status = status
    if status is RegistrationStatus.VERIFIED:
        reg.verified_at = clock.now()
    session.commit()
    clock.advance(dt.timedelta(days=30))
    assert dispatch.send_nudges(session, clock, app.settings) == (0, 0)
    assert dispatch.expire(session, clock) == 0
    assert dispatch.send_links(session, clock, app.settings).seen == 0


def test_no_nudge_right_after_a_late_first_link(
    app: App, session: Session, clock: FixedClock, settings: Settings
) -> None:
    new_registration(app, session)
    clock.advance(days=settings.unverified_nudge_after_days + 3)  # dispatch was down
    dispatch.send_links(session, clock, settings)
    session.commit()
    assert dispatch.send_nudges(session, clock, settings) == (0, 0)
    clock.advance(days=settings.unverified_nudge_after_days)
    assert dispatch.send_nudges(session, clock, settings) == (1, 1)
