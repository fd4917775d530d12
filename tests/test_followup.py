"""The follow-up after the close: the emails' wording and the account managers' call list."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.enums import RegistrationStatus, Role
from db.models import AuditEvent, Message, Organization
from domain.campaign import followup_mailing, load_campaign
from domain.clock import FixedClock
from domain.context import App
from domain.followup import build_call_list, call_list_csv, record_published
from domain.mailing import StencilCache, send_step
from domain.segments import Segment
from tests import factories
from tests.test_mailing import contact, registered

TOKYO = ZoneInfo("Asia/Tokyo")
UNREGISTERED = (Segment.NEVER_REGISTERED, Segment.NOTHING_VERIFIED)


def organizations(app: App, session: Session) -> dict[str, Organization]:
    orgs = {}
    for key, manager in (
        ("never", "Sato"),
        ("pending", "Abe"),
        ("partial", "Sato"),
        ("ready", None),
    ):
        org = factories.organization(session, app.clock, name=f"{key.title()} Lines")
        org.account_manager = manager
        org.phone = "+81 3 1234 5678"
        contact(session, org, f"ops@{key}.example", name="Ops Desk")
        orgs[key] = org
    registered(app, session, orgs["pending"], "p@owner.example")
    registered(app, session, orgs["partial"], "n@owner.example", status=RegistrationStatus.VERIFIED)
    registered(
        app,
        session,
        orgs["ready"],
        "a@owner.example",
        role=Role.ADMINISTRATOR,
        status=RegistrationStatus.VERIFIED,
    )
    session.commit()
    return orgs


def test_follow_up_emails_go_to_organizations_without_a_verified_registration(
    app: App, session: Session, clock: FixedClock
) -> None:
    orgs = organizations(app, session)
    clock.set(dt.datetime(2025, 9, 15, 10, tzinfo=TOKYO))
    campaign = load_campaign(app.settings)
    mailing = followup_mailing(campaign.step("close_plus_1"))
    result = send_step(
        session,
        clock,
        app.settings,
        mailing,
        orgs["never"].id,
        orgs["ready"].id,
        stencils=StencilCache(app.settings),
    )
    session.commit()
    assert result.created == 2
    sent = {m.organization_id: m for m in session.scalars(select(Message))}
    assert set(sent) == {orgs["never"].id, orgs["pending"].id}
    email = sent[orgs["never"].id]
    assert (
        email.idempotency_key == f"followup:close_plus_1:org:{orgs['never'].id}:ops@never.example"
    )
    assert email.campaign_step == "close_plus_1"
    assert "closed on 14 September 2025" in email.body_text
    after = followup_mailing(campaign.step("after_switch"))
    clock.set(dt.datetime(2025, 9, 29, 10, tzinfo=TOKYO))
    send_step(
        session, clock, app.settings, after, orgs["never"].id, orgs["ready"].id, stencils=None
    )
    session.commit()
    regain = session.scalars(select(Message).where(Message.campaign_step == "after_switch")).first()
    assert regain is not None
    assert "How to regain access" in regain.body_text


def test_the_call_list_lists_unregistered_organizations_with_their_manager(
    app: App, session: Session, clock: FixedClock
) -> None:
    orgs = organizations(app, session)
    call = build_call_list(session, clock, UNREGISTERED)
    assert {row["login_id"] for row in call.rows} == {
        orgs["never"].legacy_login_id,
        orgs["pending"].legacy_login_id,
    }
    assert call.by_manager == {"Sato": 1, "Abe": 1}
    everyone_not_ready = build_call_list(session, clock, (*UNREGISTERED, Segment.NO_VERIFIED_ADMIN))
    assert len(everyone_not_ready.rows) == 3

    text = call_list_csv(call.rows, app.calendar)
    lines = list(csv.DictReader(io.StringIO(text)))
    assert [line["login ID"] for line in lines] == [row["login_id"] for row in call.rows]
    first = next(line for line in lines if line["organization"] == "Never Lines")
    assert first["account manager"] == "Sato"
    assert first["phone"] == "'+81 3 1234 5678"  # kept as text, not read as a formula
    assert first["contact email"] == "ops@never.example"
    assert first["follow-up reached"] == "No follow-up yet"

    record_published(session, clock, call, step="call_list", actor="flow:unregistered-followup")
    session.commit()
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "followup.call_list_published")
    ).one()
    assert event.details == {
        "step": "call_list",
        "organizations": 2,
        "by_manager": {"Sato": 1, "Abe": 1},
    }


def test_formulas_in_customer_data_stay_text(app: App, session: Session, clock: FixedClock) -> None:
    org = factories.organization(session, clock, name='=HYPERLINK("http://x")')
    contact(session, org, "a@x.example")
    session.commit()
    text = call_list_csv(build_call_list(session, clock, UNREGISTERED).rows, app.calendar)
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["organization"].startswith("'=")
