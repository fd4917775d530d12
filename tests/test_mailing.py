"""Segments and mailing steps over the database: who is written to, once, and what they get."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.enums import ContactKind, Locale, MessageStatus, RegistrationStatus, Role
from db.models import Message, Organization, OrganizationContact, Registration
from domain.context import App
from domain.mailing import Mailing, MailingResult, StencilCache, send_step
from domain.segments import Recipients, Segment, classify, id_batches, segment_counts
from tests import factories

ALL = frozenset({Segment.NEVER_REGISTERED, Segment.NOTHING_VERIFIED, Segment.NO_VERIFIED_ADMIN})


def contact(
    session: Session,
    org: Organization,
    email: str,
    name: str | None = "Ingrid Larsen",
    *,
    bounced: bool = False,
    kind: ContactKind = ContactKind.PRIMARY,
) -> OrganizationContact:
    row = OrganizationContact(
        organization_id=org.id,
        kind=kind,
        name=name,
        email=email,
        email_bounced_at=dt.datetime(2025, 6, 20, tzinfo=dt.UTC) if bounced else None,
    )
    session.add(row)
    session.flush()
    return row


def registered(
    app: App,
    session: Session,
    org: Organization,
    email: str,
    *,
    role: Role = Role.NORMAL,
    status: RegistrationStatus = RegistrationStatus.PENDING,
    name: str = "Taro Yamada",
) -> Registration:
    reg = factories.registration(session, app.clock, app.calendar, org, email, role=role, name=name)
    if status is not RegistrationStatus.PENDING:
        reg.status = status
        if status in (RegistrationStatus.VERIFIED, RegistrationStatus.MIGRATED):
            reg.verified_at = app.clock.now()
    session.flush()
    return reg


def reminder(step: str = "T-7", recipients: Recipients = Recipients.CONTACTS) -> Mailing:
    return Mailing(
        kind="campaign",
        step=step,
        template="reminder",
        segments=ALL,
        recipients=recipients,
        fixed={"days_left": 7},
    )


def run(
    app: App, session: Session, mailing: Mailing, *, dry_run: bool = False, stencils: bool = True
) -> MailingResult:
    first, last = session.execute(
        select(func.min(Organization.id), func.max(Organization.id))
    ).one()
    result = send_step(
        session,
        app.clock,
        app.settings,
        mailing,
        first,
        last,
        stencils=StencilCache(app.settings) if stencils else None,
        dry_run=dry_run,
    )
    session.commit()
    return result


@pytest.fixture
def population(app: App, session: Session) -> dict[str, Organization]:
    """One organization per segment (and a few edge cases), each with a contact on file."""
    orgs = {
        name: factories.organization(session, app.clock, name=f"{name} Shipping")
        for name in (
            "never",
            "withdrawn_only",
            "pending",
            "expired_only",
            "normal_verified",
            "ready",
            "migrated_admin",
        )
    }
    for key, org in orgs.items():
        contact(session, org, f"info@{key.replace('_', '-')}.example", name=None)
    registered(
        app, session, orgs["withdrawn_only"], "a@owner.example", status=RegistrationStatus.WITHDRAWN
    )
    registered(app, session, orgs["pending"], "p@owner.example", role=Role.ADMINISTRATOR)
    registered(
        app, session, orgs["expired_only"], "e@owner.example", status=RegistrationStatus.EXPIRED
    )
    registered(
        app, session, orgs["normal_verified"], "n@owner.example", status=RegistrationStatus.VERIFIED
    )
    registered(
        app, session, orgs["normal_verified"], "admin@owner.example", role=Role.ADMINISTRATOR
    )
    registered(
        app,
        session,
        orgs["ready"],
        "boss@owner.example",
        role=Role.ADMINISTRATOR,
        status=RegistrationStatus.VERIFIED,
    )
    registered(
        app,
        session,
        orgs["migrated_admin"],
        "m@owner.example",
        role=Role.ADMINISTRATOR,
        status=RegistrationStatus.MIGRATED,
    )
    session.commit()
    return orgs


def test_every_organization_stands_in_exactly_one_segment(
    session: Session, population: dict[str, Organization]
) -> None:
    ids = [org.id for org in population.values()]
    rows = {row.id: row.segment for row in classify(session, min(ids), max(ids))}
    assert {key: rows[org.id] for key, org in population.items()} == {
        "never": Segment.NEVER_REGISTERED,
        "withdrawn_only": Segment.NEVER_REGISTERED,
        "pending": Segment.NOTHING_VERIFIED,
        "expired_only": Segment.NOTHING_VERIFIED,
        "normal_verified": Segment.NO_VERIFIED_ADMIN,
        "ready": Segment.READY,
        "migrated_admin": Segment.READY,
    }
    assert segment_counts(session) == {
        Segment.NEVER_REGISTERED: 2,
        Segment.NOTHING_VERIFIED: 2,
        Segment.NO_VERIFIED_ADMIN: 1,
        Segment.READY: 2,
    }
    only = classify(session, min(ids), max(ids), [Segment.NOTHING_VERIFIED])
    assert {row.id for row in only} == {population["pending"].id, population["expired_only"].id}


def test_batches_cover_every_organization_once(
    session: Session, population: dict[str, Organization]
) -> None:
    batches = id_batches(session, 3)
    assert [last - first >= 0 for first, last in batches] == [True] * 3
    covered = [org_id for first, last in batches for org_id in range(first, last + 1)]
    assert sorted(covered) == sorted(org.id for org in population.values())
    with pytest.raises(ValueError, match="at least 1"):
        id_batches(session, 0)


def test_a_step_reaches_every_contact_of_organizations_not_ready_once(
    app: App, session: Session, population: dict[str, Organization]
) -> None:
    result = run(app, session, reminder())
    messages = session.scalars(select(Message).order_by(Message.organization_id)).all()
    written = {m.organization_id for m in messages}
    assert written == {
        population[key].id
        for key in ("never", "withdrawn_only", "pending", "expired_only", "normal_verified")
    }
    assert result.created == 5
    assert sum(result.organizations.values()) == 5
    assert result.planned == {
        Segment.NEVER_REGISTERED: 2,
        Segment.NOTHING_VERIFIED: 2,
        Segment.NO_VERIFIED_ADMIN: 1,
    }
    never = next(m for m in messages if m.organization_id == population["never"].id)
    assert never.idempotency_key == f"campaign:T-7:org:{population['never'].id}:info@never.example"
    assert never.campaign_step == "T-7"
    assert never.template == "reminder"
    assert never.status is MessageStatus.QUEUED
    assert "never Shipping" in never.subject
    assert "Dear never Shipping team," in never.body_text  # no contact name: the team
    assert "not yet received any pre-registration" in never.body_text
    verified = next(m for m in messages if m.organization_id == population["normal_verified"].id)
    assert "no confirmed Administrator" in verified.body_text

    again = run(app, session, reminder())
    assert again.created == 0
    assert sum(again.planned.values()) == 0
    assert again.already_sent == 5
    assert session.scalar(select(func.count()).select_from(Message)) == 5


def test_registered_people_waiting_to_verify_are_written_to_where_the_step_says(
    app: App, session: Session, population: dict[str, Organization]
) -> None:
    pending = population["pending"]
    # The same address as a contact and as a registration: one email.
    contact(session, pending, "P@Owner.Example", name="Hanako Sato", kind=ContactKind.TECHNICAL)
    session.commit()
    run(app, session, reminder(recipients=Recipients.CONTACTS_AND_REGISTERED))
    to = sorted(
        (m.to_address, m.registration_id)
        for m in session.scalars(select(Message).where(Message.organization_id == pending.id))
    )
    assert to == [("P@Owner.Example", None), ("info@pending.example", None)]
    # normal_verified: its pending Administrator gets the reminder as a registered person.
    admin = session.scalars(
        select(Message).where(Message.to_address == "admin@owner.example")
    ).one()
    assert admin.registration_id is not None
    assert admin.to_name == "Taro Yamada"
    assert "Dear Taro Yamada," in admin.body_text


def test_bounced_and_invalid_addresses_are_skipped_and_counted(
    app: App, session: Session, population: dict[str, Organization]
) -> None:
    org = population["never"]
    contact(session, org, "gone@never.example", bounced=True, kind=ContactKind.BILLING)
    contact(session, org, "not an address", kind=ContactKind.TECHNICAL)
    lonely = factories.organization(session, app.clock, name="Lonely Line")
    session.commit()
    dry = run(app, session, reminder(), dry_run=True)
    assert (dry.invalid_addresses, sum(dry.planned.values())) == (1, 5)
    result = run(app, session, reminder())
    assert sum(result.planned.values()) == 5
    assert result.invalid_addresses == 1
    assert result.unreachable == {Segment.NEVER_REGISTERED: 1}
    addresses = set(session.scalars(select(Message.to_address)))
    assert "gone@never.example" not in addresses
    assert "not an address" not in addresses
    assert not session.scalars(select(Message).where(Message.organization_id == lonely.id)).all()


def test_a_contact_added_later_still_gets_the_step(
    app: App, session: Session, population: dict[str, Organization]
) -> None:
    run(app, session, reminder())
    contact(session, population["never"], "new@never.example", kind=ContactKind.TECHNICAL)
    session.commit()
    result = run(app, session, reminder())
    assert result.created == 1
    assert result.already_sent == 5


def test_a_dry_run_plans_the_same_emails_and_writes_nothing(
    app: App, session: Session, population: dict[str, Organization]
) -> None:
    dry = run(app, session, reminder(), dry_run=True)
    assert session.scalar(select(func.count()).select_from(Message)) == 0
    assert dry.created == 0
    assert sum(dry.planned.values()) == 5
    assert {(s.segment, s.locale) for s in dry.samples} == {
        (Segment.NEVER_REGISTERED, Locale.EN),
        (Segment.NOTHING_VERIFIED, Locale.EN),
        (Segment.NO_VERIFIED_ADMIN, Locale.EN),
    }
    real = run(app, session, reminder())
    assert real.planned == dry.planned


def test_stencils_and_full_rendering_store_the_same_emails(
    app: App, session: Session, population: dict[str, Organization]
) -> None:
    japanese = factories.organization(session, app.clock, name="Aoshio Kaiun", locale=Locale.JA)
    japanese.name_local = "青潮海運株式会社"
    contact(session, japanese, "soumu@aoshio.example.jp", name="佐藤 花子")
    session.commit()
    run(app, session, reminder("fast"))
    run(app, session, reminder("slow"), stencils=False)

    def stored(step: str) -> dict[str, tuple[str, str, str]]:
        return {
            m.to_address: (m.subject, m.body_text, m.body_html)
            for m in session.scalars(select(Message).where(Message.campaign_step == step))
        }

    fast, slow = stored("fast"), stored("slow")
    assert fast == slow and len(fast) == 6
    subject, text, _ = fast["soumu@aoshio.example.jp"]
    assert "青潮海運株式会社" in subject
    assert text.startswith("青潮海運株式会社\n佐藤 花子 様")
