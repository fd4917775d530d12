"""Agents' changes to helpdesk contacts: validated, audited field by field, response times kept."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.enums import HelpdeskCategory, HelpdeskStatus
from db.models import AuditEvent, HelpdeskContact
from domain.clock import FixedClock
from domain.context import App
from domain.helpdesk import record_contact
from domain.helpdesk_updates import HelpdeskUpdateError, StaleContact, update_contact


@pytest.fixture
def contact(session: Session, clock: FixedClock) -> HelpdeskContact:
    found = record_contact(
        session,
        clock,
        name="Ken",
        email="ken@example.com",
        organization_name=None,
        category=HelpdeskCategory.OTHER,
        message="Help",
    )
    session.commit()
    return found


def actions(session: Session, contact_id: int) -> list[str]:
    return list(
        session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.entity_type == "helpdesk_contact", AuditEvent.entity_id == contact_id)
            .order_by(AuditEvent.id)
        )
    )


def test_taking_up_resolving_and_reopening(
    session: Session, app: App, clock: FixedClock, contact: HelpdeskContact
) -> None:
    clock.advance(hours=3)
    update_contact(
        session, clock, app.calendar, contact_id=contact.id, actor="agent:mika", status="open"
    )
    assert contact.first_response_at == contact.received_at + dt.timedelta(hours=3)
    assert contact.assignee == "mika"
    clock.advance(hours=5)
    update_contact(
        session,
        clock,
        app.calendar,
        contact_id=contact.id,
        actor="agent:mika",
        status=HelpdeskStatus.RESOLVED,
    )
    assert contact.resolved_at == clock.now()
    first_response = contact.first_response_at
    update_contact(
        session, clock, app.calendar, contact_id=contact.id, actor="agent:ken", status="open"
    )
    assert contact.resolved_at is None, "reopening clears the resolution"
    assert contact.first_response_at == first_response, "the first response stays the first"
    assert actions(session, contact.id)[1:] == ["helpdesk.status_changed"] * 3


def test_notes_accumulate_with_time_and_agent(
    session: Session, app: App, contact: HelpdeskContact
) -> None:
    update_contact(
        session,
        app.clock,
        app.calendar,
        contact_id=contact.id,
        actor="agent:mika",
        note="  Called; no answer. ",
    )
    result = update_contact(
        session,
        app.clock,
        app.calendar,
        contact_id=contact.id,
        actor="agent:ken",
        note="Sent a new link.",
    )
    assert result.changed == ("note",)
    assert contact.notes == (
        "[2025-07-01 09:00 JST] mika: Called; no answer.\n\n"
        "[2025-07-01 09:00 JST] ken: Sent a new link."
    )
    assert contact.status is HelpdeskStatus.NEW, "a note alone is not a status change"


def test_same_values_change_nothing(session: Session, app: App, contact: HelpdeskContact) -> None:
    result = update_contact(
        session,
        app.clock,
        app.calendar,
        contact_id=contact.id,
        actor="agent:mika",
        status="new",
        category="other",
        note="   ",
    )
    assert result.nothing_changed
    assert actions(session, contact.id) == ["helpdesk.contact_received"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"actor": "mika"}, "agent's name"),
        ({"actor": "agent:"}, "agent's name"),
        ({"status": "done"}, "Unknown status 'done'"),
        ({"category": "spam"}, "Unknown category 'spam'"),
        ({"note": "x" * 5001}, "too long"),
        ({"contact_id": 10**9}, "no helpdesk contact"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    session: Session, app: App, contact: HelpdeskContact, changes: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"contact_id": contact.id, "actor": "agent:mika"} | changes
    with pytest.raises(HelpdeskUpdateError, match=message):
        update_contact(session, app.clock, app.calendar, **arguments)  # type: ignore[arg-type]
    session.rollback()
    assert session.get(HelpdeskContact, contact.id).status is HelpdeskStatus.NEW  # type: ignore[union-attr]


def test_a_contact_changed_meanwhile_is_not_overwritten(
    session: Session, app: App, contact: HelpdeskContact
) -> None:
    update_contact(
        session,
        app.clock,
        app.calendar,
        contact_id=contact.id,
        actor="agent:ken",
        status="closed",
    )
    with pytest.raises(StaleContact, match="now 'closed'"):
        update_contact(
            session,
            app.clock,
            app.calendar,
            contact_id=contact.id,
            actor="agent:mika",
            status="open",
            expected_status="new",
        )
