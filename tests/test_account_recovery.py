"""Getting back in, the rules: which link goes to whom, once, for how long."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.enums import Locale, MembershipStatus, PersonStatus, Role, TokenPurpose
from db.models import Membership, Message, Person, VerificationToken
from domain.accounts import recovery
from domain.accounts.recovery import Outcome, ResetState, Sent
from domain.addresses import InvalidAddress
from domain.clock import FixedClock
from domain.context import App
from tests import factories

GOOD = "lanterns over the harbour at dusk"


def person(
    app: App, session: Session, status: PersonStatus, *, org_locale: Locale = Locale.EN
) -> Person:
    org = factories.organization(session, app.clock, locale=org_locale)
    found = Person(
        email=f"{status.value}.{org.id}@owner.example",
        display_name="Mina Kato",
        password_hash=None if status is PersonStatus.PENDING_ACTIVATION else "x",
        status=status,
        created_at=app.clock.now(),
    )
    session.add(found)
    session.flush()
    session.add(
        Membership(
            person_id=found.id,
            organization_id=org.id,
            role=Role.VISITOR,
            status=MembershipStatus.ACTIVE,
            created_at=app.clock.now(),
        )
    )
    session.flush()
    return found


def ask(app: App, session: Session, email: str, client: str = "192.0.2.7") -> Outcome | Sent:
    result = recovery.request_link(
        session, app.clock, app.settings, email=email, client=client, locale=Locale.EN
    )
    return result.sent if result.outcome is Outcome.ACCEPTED else result.outcome


def tokens(session: Session, person_id: int) -> list[VerificationToken]:
    return list(
        session.scalars(
            select(VerificationToken)
            .where(VerificationToken.person_id == person_id)
            .order_by(VerificationToken.id)
        )
    )


def test_who_gets_what(app: App, session: Session) -> None:
    active = person(app, session, PersonStatus.ACTIVE)
    pending = person(app, session, PersonStatus.PENDING_ACTIVATION)
    disabled = person(app, session, PersonStatus.DISABLED)
    assert ask(app, session, active.email) is Sent.RESET_LINK
    assert ask(app, session, pending.email) is Sent.ACTIVATION_LINK
    assert ask(app, session, disabled.email) is Sent.NOTHING
    assert ask(app, session, "nobody@owner.example") is Sent.NOTHING
    assert [t.purpose for t in tokens(session, active.id)] == [TokenPurpose.RESET_PASSWORD]
    assert [t.purpose for t in tokens(session, pending.id)] == [TokenPurpose.ACTIVATE_ACCOUNT]
    assert tokens(session, disabled.id) == []
    sent = session.scalars(select(Message.to_address).order_by(Message.id)).all()
    assert sent == [active.email, pending.email]


def test_addresses_are_judged_by_their_shape_only() -> None:
    assert recovery.normalize_address("  Mina.Kato@Owner.EXAMPLE ") == "mina.kato@owner.example"
    for bad in ("", "mina", "mina@", "a@b@c.example", "mina kato@owner.example"):
        with pytest.raises(InvalidAddress):
            recovery.normalize_address(bad)


def test_a_later_request_replaces_the_link_and_a_repeat_does_not(
    app: App, session: Session, clock: FixedClock
) -> None:
    active = person(app, session, PersonStatus.ACTIVE)
    assert ask(app, session, active.email) is Sent.RESET_LINK
    clock.advance(minutes=4)
    assert ask(app, session, active.email) is Sent.NOTHING  # the first email is on its way
    clock.advance(minutes=2)
    assert ask(app, session, active.email) is Sent.RESET_LINK
    first, second = tokens(session, active.id)
    assert first.revoked_at == clock.now() and second.revoked_at is None
    keys = session.scalars(select(Message.idempotency_key).order_by(Message.id)).all()
    assert len(keys) == len(set(keys)) == 2


def test_racing_requests_queue_one_email_and_keep_its_link(
    app: App, session: Session, clock: FixedClock
) -> None:
    """Two requests that both found no recent link: the outbox key lets only one through, and
    the loser neither adds a link nor revokes the winner's."""
    active = person(app, session, PersonStatus.ACTIVE)
    outcomes = [
        recovery._send_link(
            session,
            clock,
            app.settings,
            active,
            purpose=TokenPurpose.RESET_PASSWORD,
            template=recovery.RESET_TEMPLATE,
            locale=Locale.EN,
            client=client,
        )
        for client in ("192.0.2.7", "192.0.2.8")
    ]
    assert outcomes == [Sent.RESET_LINK, Sent.NOTHING]
    [token] = tokens(session, active.id)
    assert token.revoked_at is None
    assert len(session.scalars(select(Message)).all()) == 1


def test_a_reset_link_lives_as_long_as_the_setting_says(
    app: App, session: Session, clock: FixedClock
) -> None:
    settings = app.settings.model_copy(update={"password_reset_token_ttl_hours": 1})
    active = person(app, session, PersonStatus.ACTIVE)
    recovery.request_link(
        session, clock, settings, email=active.email, client="192.0.2.7", locale=Locale.EN
    )
    [token] = tokens(session, active.id)
    assert token.expires_at == clock.now() + dt.timedelta(hours=1)
    message = session.scalars(select(Message)).one()
    raw = message.body_text.split("/reset-password/")[1].split()[0]
    assert token.token_hash not in message.body_text and len(raw) >= 43
    clock.advance(minutes=59)
    assert recovery.inspect(session, clock, raw).state is ResetState.VALID
    clock.advance(minutes=1)
    assert recovery.inspect(session, clock, raw).state is ResetState.EXPIRED
    result = recovery.reset_password(
        session, clock, settings, raw, password=GOOD, confirmation=GOOD
    )
    assert not result.reset_now and active.password_hash == "x"


def test_a_reset_link_works_once(app: App, session: Session, clock: FixedClock) -> None:
    active = person(app, session, PersonStatus.ACTIVE)
    ask(app, session, active.email)
    raw = session.scalars(select(Message)).one().body_text.split("/reset-password/")[1].split()[0]
    refused = recovery.reset_password(
        session, clock, app.settings, raw, password="Mina Kato", confirmation="Mina Kato"
    )
    assert refused.verdict is not None and not refused.reset_now
    assert recovery.inspect(session, clock, raw).state is ResetState.VALID  # not used up
    done = recovery.reset_password(
        session, clock, app.settings, raw, password=GOOD, confirmation=GOOD
    )
    assert done.reset_now and active.password_hash != "x"
    assert active.password_changed_at == clock.now()
    again = recovery.reset_password(
        session, clock, app.settings, raw, password=GOOD + "!", confirmation=GOOD + "!"
    )
    assert again.view.state is ResetState.EXPIRED and again.view.email is None
    assert recovery.inspect(session, clock, "A" * 43).state is ResetState.UNKNOWN


def test_the_email_speaks_the_persons_language(app: App, session: Session) -> None:
    of_org = person(app, session, PersonStatus.ACTIVE, org_locale=Locale.JA)
    own = person(app, session, PersonStatus.ACTIVE, org_locale=Locale.JA)
    own.locale = Locale.EN
    ask(app, session, of_org.email)
    ask(app, session, own.email)
    locales = session.scalars(select(Message.locale).order_by(Message.id)).all()
    assert locales == [Locale.JA, Locale.EN]


def test_throttled_requests_are_not_counted_again(
    app: App, session: Session, clock: FixedClock
) -> None:
    for _ in range(recovery.PER_ADDRESS.max_events):
        ask(app, session, "nobody@owner.example")
    assert ask(app, session, "nobody@owner.example") is Outcome.THROTTLED
    clock.advance(minutes=30)
    assert ask(app, session, "nobody@owner.example") is Outcome.THROTTLED
    clock.advance(minutes=31)  # the window slid past every counted request
    assert ask(app, session, "nobody@owner.example") is Sent.NOTHING
