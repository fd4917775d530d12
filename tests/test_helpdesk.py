"""Helpdesk requests: matched to an organization only on unambiguous evidence; acknowledged once."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.enums import ContactKind, HelpdeskCategory, Locale, RegistrationStatus
from db.models import HelpdeskContact, Message, OrganizationContact
from domain import helpdesk
from domain.clock import FixedClock
from domain.context import App
from domain.settings import Settings
from tests import factories


def test_a_registered_address_is_the_strongest_evidence(session: Session, app: App) -> None:
    mine = factories.organization(session, app.clock, domains=("mine.example",))
    theirs = factories.organization(session, app.clock, domains=("theirs.example",))
    factories.registration(session, app.clock, app.calendar, theirs, "ann@mine.example")
    match = helpdesk.match_organization(session, "ann@mine.example")
    assert match == helpdesk.Match(theirs.id, "registration")
    assert helpdesk.match_organization(session, "bob@mine.example") == helpdesk.Match(
        mine.id, "domain"
    )


def test_withdrawn_registrations_do_not_count(session: Session, app: App) -> None:
    org = factories.organization(session, app.clock, domains=())
    registration = factories.registration(
        session, app.clock, app.calendar, org, "ann@elsewhere.example"
    )
    registration.status = RegistrationStatus.WITHDRAWN
    session.flush()
    assert helpdesk.match_organization(session, "ann@elsewhere.example").organization_id is None


def test_a_contact_on_file_matches(session: Session, clock: FixedClock) -> None:
    org = factories.organization(session, clock, domains=())
    session.add(
        OrganizationContact(organization_id=org.id, kind=ContactKind.PRIMARY, email="ops@gmail.com")
    )
    session.flush()
    assert helpdesk.match_organization(session, "ops@gmail.com") == helpdesk.Match(
        org.id, "contact"
    )


def test_free_mail_domains_never_match_by_domain(session: Session, clock: FixedClock) -> None:
    factories.organization(session, clock, domains=("gmail.com",))
    assert helpdesk.match_organization(session, "anyone@gmail.com").organization_id is None


def test_ambiguity_is_resolved_by_the_name_given_or_left_alone(session: Session, app: App) -> None:
    first = factories.organization(
        session, app.clock, name="Kaiyo Lines", domains=("group.example",)
    )
    factories.organization(session, app.clock, name="Kaiyo Tankers", domains=("group.example",))
    unresolved = helpdesk.match_organization(session, "ken@group.example")
    assert unresolved == helpdesk.Match(None, "ambiguous")
    named = helpdesk.match_organization(session, "ken@group.example", "  kaiyo   LINES ")
    assert named == helpdesk.Match(first.id, "domain")


def test_the_name_alone_can_match(session: Session, clock: FixedClock) -> None:
    org = factories.organization(session, clock, name="Aoshio Kaiun K.K.", domains=())
    org.name_local = "青潮海運株式会社"
    session.flush()
    assert helpdesk.match_organization(session, "x@unknown.example", "青潮海運株式会社") == (
        helpdesk.Match(org.id, "name")
    )
    assert helpdesk.match_organization(session, "x@unknown.example", "Nobody Ltd").reason == "none"


def test_record_and_acknowledge(session: Session, app: App, settings: Settings) -> None:
    org = factories.organization(session, app.clock)
    contact = helpdesk.record_contact(
        session,
        app.clock,
        name="  Ann   Lee ",
        email="Ann@Owner.example",
        organization_name=None,
        category="link_expired",
        message="  The link has expired.  ",
    )
    assert contact.sender_email == "ann@owner.example"
    assert contact.sender_name == "Ann Lee"
    assert contact.organization_id == org.id
    assert contact.category is HelpdeskCategory.LINK_EXPIRED
    assert contact.body == "The link has expired."
    reference = helpdesk.acknowledge(session, app.clock, settings, contact, locale=Locale.EN)
    assert reference == f"HD-2025-{contact.id:06d}"
    again = helpdesk.acknowledge(session, app.clock, settings, contact, locale=Locale.EN)
    assert again == reference
    messages = session.scalars(select(Message)).all()
    assert len(messages) == 1  # one acknowledgement per request, however often asked
    assert session.scalars(select(HelpdeskContact)).one() is contact


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"category": "complaint"}, "category"),
        ({"message": "  "}, "message"),
        ({"message": "x" * 10_001}, "message"),
    ],
)
def test_unusable_requests_are_refused(
    session: Session, clock: FixedClock, fields: dict[str, str], field: str
) -> None:
    values = {"email": "a@b.example", "category": "other", "message": "Hello"} | fields
    with pytest.raises(helpdesk.ContactError) as refused:
        helpdesk.record_contact(
            session,
            clock,
            name=None,
            organization_name=None,
            email=values["email"],
            category=values["category"],
            message=values["message"],
        )
    assert refused.value.field == field
