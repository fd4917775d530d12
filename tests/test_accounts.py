"""Individual accounts: password rules, activation links, log-in, invitations, users."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.enums import Locale, MembershipStatus, PersonStatus, Role
from db.models import Membership, Message, Person
from domain.accounts import activation, invitations, login, users
from domain.accounts.activation import ActivationState
from domain.accounts.invitations import InvitationError, InvitationState
from domain.accounts.password_rules import Problem, check, normalize
from domain.clock import FixedClock
from domain.context import App
from domain.roles import PermissionDenied
from tests import factories

GOOD = "tide tables of kobe harbour"


@pytest.mark.parametrize(
    ("password", "problems"),
    [
        (GOOD, ()),
        ("海と空と船の長い旅路へようこそ", ()),
        ("short one", (Problem.TOO_SHORT,)),
        ("x" * 129, (Problem.TOO_LONG,)),
        ("Password2025!!!!!!", (Problem.COMMON,)),
        ("qwertyuiopqwertyuiop", (Problem.COMMON, Problem.SEQUENTIAL)),
        ("abababababababab", (Problem.REPETITIVE,)),
        ("123456789012345678", (Problem.SEQUENTIAL,)),
        ("zxcvbnmasdfghjkl", (Problem.SEQUENTIAL,)),
        ("hanako.sato-2025!!", (Problem.CONTEXT,)),
        ("my ClassNK portal forever", (Problem.CONTEXT,)),
        ("tide tables\u200bof kobe", (Problem.CONTROL,)),
    ],
)
def test_password_rules(password: str, problems: tuple[Problem, ...]) -> None:
    verdict = check(password, min_length=15, context=["hanako.sato@aoshio.example", "Hanako Sato"])
    assert verdict.problems == problems


def test_passwords_are_compared_after_nfkc() -> None:
    assert normalize("ｔｉｄｅ　１２３") == "tide 123"
    assert check(GOOD, min_length=15, confirmation="tide tables of kobe").problems == (
        Problem.MISMATCH,
    )


def pending_person(app: App, session: Session) -> Person:
    org = factories.organization(session, app.clock, name="Aoshio Kaiun")
    person = Person(
        email="hanako@aoshio.example",
        display_name="Hanako Sato",
        status=PersonStatus.PENDING_ACTIVATION,
        created_at=app.clock.now(),
    )
    session.add(person)
    session.flush()
    session.add(
        Membership(
            person_id=person.id,
            organization_id=org.id,
            role=Role.ADMINISTRATOR,
            status=MembershipStatus.ACTIVE,
            created_at=app.clock.now(),
        )
    )
    session.flush()
    return person


def test_activation_sets_the_password_once(app: App, session: Session, clock: FixedClock) -> None:
    person = pending_person(app, session)
    first = activation.issue(session, clock, app.settings, person, locale=Locale.EN, actor="test")
    raw = activation.issue(session, clock, app.settings, person, locale=Locale.EN, actor="test")
    session.commit()
    assert activation.inspect(session, clock, first).state is ActivationState.EXPIRED
    view = activation.inspect(session, clock, raw)
    assert view.state is ActivationState.VALID and view.memberships[0].role is Role.ADMINISTRATOR
    refused = activation.activate(
        session, clock, app.settings, raw, password="Hanako Sato 2025", confirmation="x"
    )
    assert refused.verdict is not None and Problem.CONTEXT in refused.verdict.problems
    assert activation.inspect(session, clock, raw).state is ActivationState.VALID  # not used up
    done = activation.activate(session, clock, app.settings, raw, password=GOOD, confirmation=GOOD)
    session.commit()
    assert done.activated_now
    assert person.status is PersonStatus.ACTIVE and person.password_changed_at == clock.now()
    again = activation.activate(session, clock, app.settings, raw, password=GOOD, confirmation=GOOD)
    assert again.view.state is ActivationState.ALREADY_ACTIVE and not again.activated_now
    emails = session.scalars(select(Message).order_by(Message.id)).all()
    assert len(emails) == 2 and all("/activate/" in m.body_text for m in emails)
    result = login.authenticate(
        session, clock, email="Hanako@Aoshio.example ", password=GOOD, client="1.2.3.4"
    )
    assert result.outcome is login.Outcome.OK


def test_an_expired_link_sets_nothing(app: App, session: Session, clock: FixedClock) -> None:
    person = pending_person(app, session)
    raw = activation.issue(session, clock, app.settings, person, locale=Locale.JA, actor="test")
    session.commit()
    clock.advance(hours=app.settings.activation_token_ttl_hours, seconds=1)
    result = activation.activate(
        session, clock, app.settings, raw, password=GOOD, confirmation=GOOD
    )
    assert result.view.state is ActivationState.EXPIRED and result.view.email is None
    assert person.password_hash is None
    assert activation.inspect(session, clock, "not-a-token").state is ActivationState.UNKNOWN


def test_invitations_need_an_administrator_and_are_single_use(
    app: App, session: Session, clock: FixedClock
) -> None:
    person = pending_person(app, session)
    person.status = PersonStatus.ACTIVE
    org_id = person.memberships[0].organization_id
    with pytest.raises(InvitationError, match="already a user"):
        invitations.invite(
            session,
            clock,
            app.settings,
            inviter_id=person.id,
            organization_id=org_id,
            name="Me Again",
            email="HANAKO@aoshio.example",
            role="normal",
        )
    first = invitations.invite(
        session,
        clock,
        app.settings,
        inviter_id=person.id,
        organization_id=org_id,
        name="Ken Ito",
        email="ken@aoshio.example",
        role="visitor",
    )
    second = invitations.invite(
        session,
        clock,
        app.settings,
        inviter_id=person.id,
        organization_id=org_id,
        name="Ken Ito",
        email="ken@aoshio.example",
        role="normal",
    )
    session.commit()
    assert invitations.inspect(session, clock, first.raw_token).state is InvitationState.EXPIRED
    assert [i.id for i in invitations.pending(session, clock, org_id)] == [second.invitation.id]
    accepted = invitations.accept(
        session, clock, app.settings, second.raw_token, password=GOOD, confirmation=GOOD
    )
    session.commit()
    assert accepted.accepted_now and accepted.person is not None
    assert accepted.person.status is PersonStatus.ACTIVE
    assert [(m.organization_id, m.role) for m in accepted.person.memberships] == [
        (org_id, Role.NORMAL)
    ]
    repeat = invitations.accept(session, clock, app.settings, second.raw_token)
    assert repeat.view.state is InvitationState.ACCEPTED and not repeat.accepted_now
    # Ken, a Normal User, may not invite.
    with pytest.raises(PermissionDenied, match="needs an Administrator"):
        invitations.invite(
            session,
            clock,
            app.settings,
            inviter_id=accepted.person.id,
            organization_id=org_id,
            name="X",
            email="x@aoshio.example",
            role="normal",
        )


def test_users_keep_an_administrator_and_own_information(
    app: App, session: Session, clock: FixedClock
) -> None:
    admin = pending_person(app, session)
    admin.status = PersonStatus.ACTIVE
    org_id = admin.memberships[0].organization_id
    with pytest.raises(users.UserError, match="at least one Administrator"):
        users.change_role(
            session,
            clock,
            actor_id=admin.id,
            organization_id=org_id,
            person_id=admin.id,
            role=Role.NORMAL,
        )
    with pytest.raises(users.UserError, match="at least one Administrator"):
        users.remove(session, clock, actor_id=admin.id, organization_id=org_id, person_id=admin.id)
    info = users.clean_information("  Hanako   SATO ", "+81 3-1234-5678", "ja")
    assert info == users.Information("Hanako SATO", "+81 3-1234-5678", Locale.JA)
    with pytest.raises(users.UserError, match="phone"):
        users.clean_information("Hanako", "call me maybe", "")
    users.update_information(
        session,
        clock,
        actor_id=admin.id,
        organization_id=org_id,
        person_id=admin.id,
        information=info,
    )
    assert admin.display_name == "Hanako SATO" and admin.locale is Locale.JA
    clock.advance(dt.timedelta(minutes=1))
    assert [row.name for row in users.users(session, org_id)] == ["Hanako SATO"]


def test_service_applications_are_made_once_and_roll_back_with_the_caller(
    app: App, session: Session
) -> None:
    from db.models import AuditEvent, Service, ServiceApplication
    from domain.accounts.hub import ApplicationError, apply_for_service

    admin = pending_person(app, session)
    admin.status = PersonStatus.ACTIVE
    service = Service(
        code="PLAN", name="Plan approval", name_ja="図面承認", requires_preregistration=True
    )
    session.add(service)
    session.commit()
    org_id = session.scalars(select(Membership.organization_id)).one()

    application = apply_for_service(
        session,
        app.clock,
        actor_id=admin.id,
        organization_id=org_id,
        service_id=service.id,
    )
    assert application.service_id == service.id
    # The caller's rollback takes the application and its audit event with it: nothing was
    # committed behind the caller's back.
    session.rollback()
    assert session.scalars(select(ServiceApplication)).all() == []
    assert (
        session.scalars(
            select(AuditEvent).where(AuditEvent.action == "service.application_submitted")
        ).all()
        == []
    )

    apply_for_service(
        session,
        app.clock,
        actor_id=admin.id,
        organization_id=org_id,
        service_id=service.id,
    )
    session.commit()
    with pytest.raises(ApplicationError, match="already"):
        apply_for_service(
            session,
            app.clock,
            actor_id=admin.id,
            organization_id=org_id,
            service_id=service.id,
        )
