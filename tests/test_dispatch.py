"""Verification dispatch rules: first links, the optional MX check, expiry, the one nudge and
the "registration confirmed" email."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.enums import Locale, RegistrationStatus, Role
from db.models import AuditEvent, Message, Organization, Registration, VerificationToken
from domain import dispatch, verification
from domain.clock import FixedClock
from domain.context import App
from domain.deliverability import MxChecker, NoRecords, NoSuchDomain
from domain.emails.render import render_email
from domain.mailing import StencilCache
from domain.organizations import display_name
from domain.settings import Settings
from domain.verification import issue_link
from tasks.dispatch import confirm_registrations
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


# --- the "registration confirmed" email ---


def verified(
    app: App,
    session: Session,
    clock: FixedClock,
    email: str = "taro@owner.example",
    *,
    org: Organization | None = None,
    role: Role = Role.NORMAL,
    name: str = "Taro Yamada",
) -> Registration:
    """A registration verified the way people verify: its link issued, then confirmed."""
    org = org or factories.organization(session, clock)
    reg = factories.registration(session, clock, app.calendar, org, email, role=role, name=name)
    raw = issue_link(session, clock, app.settings, reg)
    assert verification.confirm(session, clock, raw).confirmed_now
    session.commit()
    session.refresh(reg)
    return reg


def confirmations(session: Session) -> list[Message]:
    return [m for m in messages(session) if m.template == "registration_confirmed"]


def test_a_verified_person_gets_the_confirmation_once(
    app: App, session: Session, clock: FixedClock, settings: Settings
) -> None:
    org = factories.organization(session, clock, name="Ocean & Sons Kaiun")
    reg = verified(app, session, clock, org=org, role=Role.ADMINISTRATOR, name="Hanako Sato")
    clock.advance(minutes=1)
    batch = dispatch.send_confirmations(session, clock, settings)
    session.commit()
    assert (batch.sent, batch.invalid, batch.seen) == (1, 0, 1)
    [message] = confirmations(session)
    assert message.idempotency_key == f"confirmed:{reg.id}"
    assert (message.to_address, message.to_name) == ("taro@owner.example", "Hanako Sato")
    assert (message.registration_id, message.organization_id) == (reg.id, org.id)
    assert message.locale is Locale.EN
    assert message.subject.endswith("Your email address is confirmed")
    for shown in ("Dear Hanako Sato,", "taro@owner.example", "Ocean & Sons Kaiun", "Administrator"):
        assert shown in message.body_text
    assert "Ocean &amp; Sons Kaiun" in message.body_html
    assert (
        message.body_text
        == render_email(
            "registration_confirmed",
            Locale.EN,
            {
                "person_name": "Hanako Sato",
                "email": "taro@owner.example",
                "organization_name": "Ocean & Sons Kaiun",
                "role": "administrator",
            },
            settings,
        ).text
    )
    # Later runs find nothing to do: the confirmation's key is in the outbox.
    clock.advance(minutes=1)
    again = dispatch.send_confirmations(session, clock, settings)
    session.commit()
    assert (again.sent, again.seen) == (0, 0)
    assert len(confirmations(session)) == 1


def test_the_confirmation_speaks_the_organizations_language(
    app: App, session: Session, clock: FixedClock, settings: Settings
) -> None:
    org = factories.organization(session, clock, name="Aoshio Kaiun", locale=Locale.JA)
    org.name_local = "青潮海運株式会社"
    verified(app, session, clock, org=org, name="佐藤 花子")
    dispatch.send_confirmations(session, clock, settings)
    session.commit()
    [message] = confirmations(session)
    assert message.locale is Locale.JA
    assert "メールアドレスの確認が完了いたしました" in message.subject
    assert "青潮海運株式会社" in message.body_text
    assert "Aoshio Kaiun" not in message.body_text
    assert "佐藤 花子 様" in message.body_text
    assert "・メールアドレス：taro@owner.example" in message.body_text


def test_stencils_give_the_same_emails_as_full_renders(
    app: App, session: Session, clock: FixedClock, settings: Settings
) -> None:
    ja = factories.organization(session, clock, locale=Locale.JA)
    ja.name_local = "青潮海運株式会社"
    en = factories.organization(session, clock, name='Kaiun <"Tokyo"> & Co')
    people = [
        (en, Role.ADMINISTRATOR, "Taro Yamada"),
        (en, Role.VISITOR, "Jane O'Neil"),
        (ja, Role.ADMINISTRATOR, "佐藤 花子"),
        (ja, Role.NORMAL, "山田 太郎"),
    ]
    for number, (org, role, name) in enumerate(people):
        verified(app, session, clock, f"p{number}@owner.example", org=org, role=role, name=name)
    stencils = StencilCache(settings)
    batch = dispatch.send_confirmations(session, clock, settings, stencils=stencils)
    session.commit()
    assert batch.sent == len(people)
    assert stencils.renders == (len(people), 0)  # filled in, each checked below
    for message in confirmations(session):
        reg = session.get_one(Registration, message.registration_id)
        org = session.get_one(Organization, reg.organization_id)
        full = render_email(
            "registration_confirmed",
            org.locale,
            {
                "person_name": reg.name,
                "email": reg.email,
                "organization_name": display_name(org),
                "role": reg.role.value,
            },
            settings,
        )
        assert (message.subject, message.body_text, message.body_html) == (
            full.subject,
            full.text,
            full.html,
        )


def test_a_dry_run_counts_and_queues_no_confirmation(
    app: App, session: Session, clock: FixedClock, settings: Settings
) -> None:
    verified(app, session, clock)
    batch = dispatch.send_confirmations(session, clock, settings, dry_run=True)
    session.rollback()
    assert (batch.sent, batch.seen) == (1, 1)
    assert confirmations(session) == []


@pytest.mark.parametrize(
    "status",
    [
        RegistrationStatus.PENDING,
        RegistrationStatus.EXPIRED,
        RegistrationStatus.BOUNCED,
        RegistrationStatus.WITHDRAWN,
        RegistrationStatus.MIGRATED,
    ],
)
def test_only_registrations_still_verified_are_confirmed(
    app: App, session: Session, clock: FixedClock, settings: Settings, status: RegistrationStatus
) -> None:
    if status is RegistrationStatus.MIGRATED:
        # Verified, then migrated before dispatch ran: the activation email says it all.
        reg = verified(app, session, clock)
        reg.migrated_at = clock.now()
    else:
        reg = new_registration(app, session)
        if status is not RegistrationStatus.PENDING:
            # Verified once and since withdrawn or bounced: a recent verified_at is no reason.
            reg.verified_at = clock.now()
    reg.status = status
    session.commit()
    clock.advance(minutes=1)
    assert dispatch.send_confirmations(session, clock, settings).seen == 0
    assert confirmations(session) == []


def test_only_verifications_since_the_horizon_are_looked_at(
    app: App, session: Session, clock: FixedClock, settings: Settings
) -> None:
    days = settings.registration_confirmed_within_days
    old = verified(app, session, clock, "old@owner.example")
    clock.advance(days=1)
    recent = verified(app, session, clock, "recent@owner.example")
    clock.advance(days=days - 1, seconds=1)  # dispatch was down; `old` is just beyond the horizon
    due = dispatch.unconfirmed(session, clock, settings, limit=10)
    assert [row.registration_id for row in due] == [recent.id]
    # A longer horizon reaches the older one too, oldest first.
    wider = settings.model_copy(update={"registration_confirmed_within_days": days + 1})
    assert dispatch.send_confirmations(session, clock, wider, limit=1).sent == 1
    assert dispatch.send_confirmations(session, clock, wider, limit=1).sent == 1
    session.commit()
    assert [m.registration_id for m in confirmations(session)] == [old.id, recent.id]


def test_the_check_starts_just_behind_the_newest_confirmation(
    app: App, session: Session, clock: FixedClock, settings: Settings
) -> None:
    org = factories.organization(session, clock)
    first = verified(app, session, clock, "first@owner.example", org=org)
    horizon = dispatch.confirmation_horizon(clock, settings)
    assert dispatch.confirmations_start(session, clock, settings) == horizon
    dispatch.send_confirmations(session, clock, settings)
    session.commit()
    assert first.verified_at is not None
    start = first.verified_at - dispatch.CONFIRMATION_SETTLING
    assert dispatch.confirmations_start(session, clock, settings) == start
    clock.advance(hours=2)
    # Verifications that committed after a later one's confirmation was queued: one within the
    # settling time is found, one before it is not looked at again.
    late = verified(app, session, clock, "late@owner.example", org=org)
    too_late = verified(app, session, clock, "too-late@owner.example", org=org)
    late.verified_at = start + dt.timedelta(minutes=1)
    too_late.verified_at = start - dt.timedelta(minutes=1)
    session.commit()
    due = dispatch.unconfirmed(session, clock, settings, limit=10)
    assert [row.registration_id for row in due] == [late.id]


def test_no_confirmation_from_the_switch_on_nor_for_a_later_verification(
    app: App, session: Session, clock: FixedClock, settings: Settings
) -> None:
    reg = verified(app, session, clock)
    rehearsal = FixedClock(clock.now() - dt.timedelta(minutes=5))  # before the verification
    assert dispatch.send_confirmations(session, rehearsal, settings).seen == 0
    switch_at = app.calendar.switch_at
    reg.verified_at = switch_at - dt.timedelta(seconds=1)
    session.commit()
    assert dispatch.send_confirmations(session, FixedClock(switch_at), settings).seen == 0
    last_minute = FixedClock(switch_at - dt.timedelta(microseconds=1))
    assert dispatch.send_confirmations(session, last_minute, settings).sent == 1


def test_the_task_works_through_batches_up_to_the_runs_maximum(
    app: App, session: Session, clock: FixedClock
) -> None:
    org = factories.organization(session, clock)
    for number in range(5):
        verified(app, session, clock, f"p{number}@owner.example", org=org)
    preview = confirm_registrations.fn(app, True, 2, 100)
    assert (preview.sent, preview.capped) == (5, False)
    assert confirmations(session) == []
    first = confirm_registrations.fn(app, False, 2, 3)
    assert (first.sent, first.capped) == (3, True)
    rest = confirm_registrations.fn(app, False, 2, 100)
    assert (rest.sent, rest.capped) == (2, False)
    assert confirm_registrations.fn(app, False, 2, 100).sent == 0
    session.expire_all()
    assert len(confirmations(session)) == 5
