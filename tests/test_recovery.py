"""Helpdesk-assisted recovery: a person registered by an agent after the close gets the link."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.enums import RegistrationSource, RegistrationStatus, Role
from db.models import AuditEvent, Message, Registration
from domain.clock import FixedClock
from domain.context import App
from domain.recovery import Recovered, RecoveryError, register_for_organization
from tests import factories

TOKYO = ZoneInfo("Asia/Tokyo")
AFTER_SWITCH = dt.datetime(2025, 10, 2, 10, 0, tzinfo=TOKYO)


def recover(app: App, session: Session, **overrides: object) -> Recovered:
    arguments: dict[str, object] = {
        "login_id": "NK000001",
        "name": "Hanako  Sato",
        "email": "Hanako@Kaiun.example",
        "role": Role.ADMINISTRATOR,
        "agent": "yamada",
    } | overrides
    return register_for_organization(
        session,
        app.clock,
        app.calendar,
        app.settings,
        **arguments,  # type: ignore[arg-type]
    )


@pytest.fixture
def organization(app: App, session: Session, clock: FixedClock) -> int:
    org = factories.organization(session, clock, name="Kaiun", domains=("kaiun.example",))
    org.legacy_login_id = "NK000001"
    session.commit()
    clock.set(AFTER_SWITCH)
    return org.id


def test_an_agent_registers_a_person_after_the_switch_and_the_link_goes_out(
    app: App, session: Session, organization: int
) -> None:
    done = recover(app, session, login_id="nk000001")
    session.commit()
    reg = session.scalars(select(Registration)).one()
    assert reg.organization_id == organization
    assert reg.email == "hanako@kaiun.example"
    assert reg.name == "Hanako Sato"
    assert reg.role is Role.ADMINISTRATOR
    assert reg.source is RegistrationSource.HELPDESK
    assert reg.submitted_by == "agent:yamada"
    assert reg.status is RegistrationStatus.PENDING
    message = session.scalars(select(Message)).one()
    assert message.template == "verification"
    assert message.to_address == "hanako@kaiun.example"
    actions = {
        (e.action, e.actor) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
    }
    assert ("registration.submitted", "agent:yamada") in actions
    assert ("verification.link_issued", "agent:yamada") in actions
    assert ("helpdesk.recovery_registered", "agent:yamada") in actions
    assert done.phase == "switched"


def test_a_dry_run_checks_everything_and_sends_nothing(
    app: App, session: Session, organization: int
) -> None:
    done = recover(app, session, dry_run=True)
    session.rollback()
    assert done.registration_id is None
    assert session.scalars(select(Registration)).all() == []
    assert session.scalars(select(Message)).all() == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"login_id": "NK999999"}, "no organization has the login ID 'NK999999'"),
        ({"login_id": " "}, "give the organization's login ID"),
        ({"agent": "  "}, "give the helpdesk agent's name"),
        ({"email": "not-an-address"}, "email"),
        ({"role": "owner"}, "Choose a role"),
        ({"name": ""}, "Enter the person's name"),
    ],
)
def test_bad_requests_are_refused_clearly(
    app: App, session: Session, organization: int, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(RecoveryError, match=message):
        recover(app, session, **overrides)


def test_the_same_person_twice_is_refused_with_the_state(
    app: App, session: Session, organization: int
) -> None:
    recover(app, session)
    session.commit()
    with pytest.raises(RecoveryError, match=r"already registered .*\(pending\)"):
        recover(app, session)
    assert len(session.scalars(select(Message)).all()) == 1


def test_nothing_to_recover_before_pre_registration_opens(
    app: App, session: Session, organization: int, clock: FixedClock
) -> None:
    clock.set(dt.datetime(2025, 6, 1, tzinfo=dt.UTC))  # back before the opening
    with pytest.raises(RecoveryError, match="has not opened yet"):
        recover(app, session)
