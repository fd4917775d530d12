from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.enums import RegistrationSource, RegistrationStatus, Role
from db.models import AuditEvent, Organization, Registration
from domain.clock import FixedClock
from domain.context import App
from domain.registration import (
    DuplicateRegistration,
    RegistrationError,
    Submitted,
    WindowClosed,
    for_organization,
    has_verified_administrator,
    submit,
)
from tests import factories

TOKYO = dt.timezone(dt.timedelta(hours=9))


def _submit(
    app: App,
    session: Session,
    email: str = "a@owner.example",
    *,
    org: Organization | None = None,
    name: str = "Hanako Suzuki",
    role: Role | str = Role.ADMINISTRATOR,
    source: RegistrationSource = RegistrationSource.PORTAL,
) -> Submitted:
    return submit(
        session,
        app.clock,
        app.calendar,
        organization=org or factories.organization(session, app.clock),
        name=name,
        email=email,
        role=role,
        submitted_by="org:TEST",
        source=source,
    )


def test_submission_is_pending_normalized_and_audited(app: App, session: Session) -> None:
    result = _submit(app, session, "  Hanako.Suzuki@Owner.Example ")
    reg = result.registration
    assert reg.status is RegistrationStatus.PENDING
    assert reg.email == "hanako.suzuki@owner.example"
    assert reg.email_display == "Hanako.Suzuki@Owner.Example"
    assert reg.submitted_at == app.clock.now()
    assert reg.role is Role.ADMINISTRATOR
    assert not result.also_registered_elsewhere
    event = session.scalars(select(AuditEvent)).one()
    assert (event.action, event.entity_id, event.actor) == (
        "registration.submitted",
        reg.id,
        "org:TEST",
    )


def test_duplicate_within_the_organization_is_refused(app: App, session: Session) -> None:
    org = factories.organization(session, app.clock)
    _submit(app, session, "x@owner.example", org=org)
    with pytest.raises(DuplicateRegistration, match="already registered") as raised:
        _submit(app, session, "X@OWNER.example", org=org, role=Role.VISITOR)
    assert raised.value.field == "email"


def test_same_person_in_another_organization_is_a_second_membership(
    app: App, session: Session
) -> None:
    _submit(app, session, "consultant@firm.example")
    second = _submit(app, session, "consultant@firm.example")
    assert second.also_registered_elsewhere


def test_the_database_refuses_a_duplicate_live_registration(app: App, session: Session) -> None:
    reg = _submit(app, session).registration
    session.commit()
    session.add(
        Registration(
            organization_id=reg.organization_id,
            email=reg.email,
            email_display=reg.email,
            name="Copy",
            role=Role.NORMAL,
            submitted_at=app.clock.now(),
            submitted_by="test",
            status_changed_at=app.clock.now(),
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


@pytest.mark.parametrize(
    ("name", "email", "role", "field"),
    [
        ("", "a@owner.example", Role.NORMAL, "name"),
        ("   ", "a@owner.example", Role.NORMAL, "name"),
        ("N" * 201, "a@owner.example", Role.NORMAL, "name"),
        ("Taro", "not-an-address", Role.NORMAL, "email"),
        ("Taro", "a@owner.example", "superuser", "role"),
    ],
)
def test_bad_input_names_the_field(
    app: App, session: Session, name: str, email: str, role: str, field: str
) -> None:
    with pytest.raises(RegistrationError) as raised:
        _submit(app, session, email, name=name, role=role)
    assert raised.value.field == field
    assert session.scalars(select(Registration)).all() == []


@pytest.mark.parametrize(
    ("moment", "needle"),
    [
        (dt.datetime(2025, 6, 14, 23, 59, tzinfo=TOKYO), "opens on 15 June 2025"),
        (dt.datetime(2025, 9, 15, 0, 0, tzinfo=TOKYO), "closed on 14 September 2025"),
    ],
)
def test_the_portal_window_is_enforced(
    app: App, session: Session, clock: FixedClock, moment: dt.datetime, needle: str
) -> None:
    clock.set(moment)
    with pytest.raises(WindowClosed, match=needle):
        _submit(app, session)


def test_the_helpdesk_may_register_after_the_close(
    app: App, session: Session, clock: FixedClock
) -> None:
    clock.set(dt.datetime(2025, 10, 2, 10, 0, tzinfo=TOKYO))
    reg = _submit(app, session, source=RegistrationSource.HELPDESK).registration
    assert reg.source is RegistrationSource.HELPDESK


def test_last_minute_of_the_window_is_open(app: App, session: Session, clock: FixedClock) -> None:
    clock.set(dt.datetime(2025, 9, 14, 23, 59, 59, tzinfo=TOKYO))
    assert _submit(app, session).registration.status is RegistrationStatus.PENDING


def test_listing_and_readiness(app: App, session: Session, clock: FixedClock) -> None:
    org = factories.organization(session, app.clock)
    first = _submit(app, session, "a@owner.example", org=org, role=Role.NORMAL).registration
    clock.advance(minutes=5)
    admin = _submit(app, session, "b@owner.example", org=org).registration
    assert [r.id for r in for_organization(session, org.id)] == [admin.id, first.id]
    assert not has_verified_administrator(session, org.id)
    admin.status = RegistrationStatus.VERIFIED
    admin.verified_at = clock.now()
    session.flush()
    assert has_verified_administrator(session, org.id)
