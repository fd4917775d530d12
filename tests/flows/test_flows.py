"""Every flow of the pre-registration period, run under Prefect against the test server."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.client.schemas.objects import Artifact, State
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.dashboard import snapshot
from db.enums import ContactKind, MessageStatus, RegistrationSource, RegistrationStatus, Role
from db.models import Message, Organization, OrganizationContact, Registration
from domain.context import App
from flows.dashboard_refresh import dashboard_refresh
from flows.helpdesk_recovery import helpdesk_recovery
from flows.outbox_sender import outbox_sender
from flows.reminder_campaign import reminder_campaign
from flows.unregistered_followup import unregistered_followup
from flows.verification_dispatch import verification_dispatch
from tests import factories
from tests.smtp_servers import Server

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_server", "flow_env")]

TOKYO = ZoneInfo("Asia/Tokyo")
T_MINUS_7 = dt.datetime(2025, 9, 7, 9, 0, tzinfo=TOKYO)


def artifacts(state: State[Any]) -> dict[str, Artifact]:
    run_id: UUID | None = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    return {artifact.key or "": artifact for artifact in found}


def markdown(state: State[Any], key: str) -> str:
    data = artifacts(state)[key].data
    assert isinstance(data, str)
    return data


def population(app: App, session: Session) -> dict[str, Organization]:
    orgs: dict[str, Organization] = {}
    for key, locale in (("never", "en"), ("pending", "ja"), ("ready", "en")):
        org = factories.organization(session, app.clock, name=f"{key.title()} Kaiun")
        org.locale = locale  # type: ignore[assignment]
        org.account_manager = "Sato"
        session.add(
            OrganizationContact(
                organization_id=org.id,
                kind=ContactKind.PRIMARY,
                name="Ops Desk",
                email=f"ops@{key}.example",
            )
        )
        orgs[key] = org
    factories.registration(session, app.clock, app.calendar, orgs["pending"], "p@owner.example")
    admin = factories.registration(
        session, app.clock, app.calendar, orgs["ready"], "a@owner.example", role=Role.ADMINISTRATOR
    )
    admin.status = RegistrationStatus.VERIFIED
    admin.verified_at = app.clock.now()
    session.commit()
    return orgs


def count(session: Session, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(Message).where(*where)) or 0)


def test_reminder_campaign_previews_then_sends_once(
    app: App, session: Session, smtp: Server
) -> None:
    population(app, session)
    preview = reminder_campaign(as_of=T_MINUS_7, dry_run=True, return_state=True)
    assert preview.is_completed()
    assert preview.result()["planned"] == 3  # never (1 contact), pending (contact + person)
    assert count(session) == 0
    report = markdown(preview, "reminder-campaign")
    assert "**Dry run**" in report
    assert "| never registered | 1 | 0 | 1 |" in report
    assert "| registered but nothing verified | 1 | 0 | 2 |" in report
    assert report.count("```text") == 3  # three rendered sample emails
    assert "Next step: `T-3` on 2025-09-11." in report

    sent = reminder_campaign(as_of=T_MINUS_7, return_state=True)
    assert sent.is_completed()
    assert sent.result()["queued"] == 3
    assert count(session, Message.status == MessageStatus.SENT) == 3  # drained by the flow
    assert len(smtp.handler.received) == 3
    assert "**Delivery** (emails of step T-7): 3 sent" in markdown(sent, "reminder-campaign")

    again = reminder_campaign(as_of=T_MINUS_7 + dt.timedelta(hours=5), return_state=True)
    assert again.result()["queued"] == 0
    assert again.result()["already_sent"] == 3
    assert len(smtp.handler.received) == 3


def test_reminder_campaign_says_when_nothing_is_due(app: App, session: Session) -> None:
    state = reminder_campaign(as_of=dt.datetime(2025, 6, 1, 9, tzinfo=TOKYO), return_state=True)
    assert state.result()["step"] is None
    report = markdown(state, "reminder-campaign")
    assert "No reminder is due on 2025-06-01 (calendar phase: before)" in report
    assert "Next step: `announcement` on 2025-06-15." in report


def test_verification_dispatch_sends_the_link_within_the_run(
    app: App, session: Session, smtp: Server
) -> None:
    orgs = population(app, session)
    state = verification_dispatch(
        as_of=dt.datetime(2025, 7, 1, 9, 1, tzinfo=TOKYO), return_state=True
    )
    assert state.is_completed()
    assert state.result()["links_sent"] == 1
    # The Administrator verified a minute ago: "your registration is complete".
    assert state.result()["confirmed"] == 1
    assert state.result()["delivered"] == 2
    assert sorted(received.rcpt_tos for received in smtp.handler.received) == [
        ("a@owner.example",),
        ("p@owner.example",),
    ]
    confirmation = session.scalars(
        select(Message).where(Message.template == "registration_confirmed")
    ).one()
    assert confirmation.to_address == "a@owner.example"
    assert confirmation.status is MessageStatus.SENT
    report = markdown(state, "verification-dispatch")
    assert "| verification links sent to new registrations | 1 |" in report
    assert "| 'registration confirmed' emails to the newly verified | 1 |" in report
    assert "**Delivery** (confirmations): 1 sent" in report
    assert "MX check: off." in report
    pending = session.scalars(
        select(Registration).where(Registration.organization_id == orgs["pending"].id)
    ).one()
    # Six days later: the nudge, once.
    later = dt.datetime(2025, 7, 7, 9, 2, tzinfo=TOKYO)
    nudged = verification_dispatch(as_of=later, return_state=True)
    assert nudged.result()["nudged"] == 1
    assert nudged.result()["confirmed"] == 0  # once is enough
    assert verification_dispatch(as_of=later, return_state=True).result()["nudged"] == 0
    session.refresh(pending)
    assert pending.nudged_at is not None


def test_outbox_sender_delivers_and_fails_visibly_without_a_relay(
    app: App, session: Session, smtp: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    population(app, session)
    reminder_campaign(as_of=T_MINUS_7, return_state=True)  # sends its own three
    verification_dispatch(as_of=T_MINUS_7, dry_run=True)  # changes nothing
    factories.registration(
        session, app.clock, app.calendar, session.get_one(Organization, 1), "x@owner.example"
    )
    session.commit()
    monkeypatch.setenv("SWITCHOVER_SMTP_PORT", "1")  # nothing listens there
    failed = verification_dispatch(as_of=T_MINUS_7, return_state=True)
    assert failed.is_completed()  # the dispatch did its part; the email waits in the outbox
    # Both pending people get their first link, and no nudge yet: their links are new.
    assert count(session, Message.status == MessageStatus.QUEUED) == 2
    down = outbox_sender(as_of=T_MINUS_7 + dt.timedelta(hours=1), return_state=True)
    assert down.is_failed()
    assert "could not be reached" in markdown(down, "outbox-sender")
    monkeypatch.setenv("SWITCHOVER_SMTP_PORT", str(smtp.port))
    preview = outbox_sender(
        as_of=T_MINUS_7 + dt.timedelta(hours=2), dry_run=True, return_state=True
    )
    assert preview.result()["due_now"] == 2
    assert "**Dry run**" in markdown(preview, "outbox-sender")
    assert count(session, Message.status == MessageStatus.QUEUED) == 2
    up = outbox_sender(as_of=T_MINUS_7 + dt.timedelta(hours=2), return_state=True)
    assert up.is_completed()
    assert up.result()["sent"] == 2
    report = markdown(up, "outbox-sender")
    assert "| sent | 5 |" in report
    assert "Nothing is due now." in report


def test_unregistered_followup_emails_and_publishes_the_call_list(
    app: App, session: Session, smtp: Server
) -> None:
    orgs = population(app, session)
    close_plus_8 = dt.datetime(2025, 9, 22, 10, tzinfo=TOKYO)
    preview = unregistered_followup(as_of=close_plus_8, dry_run=True, return_state=True)
    assert preview.is_completed()
    assert count(session) == 0
    assert "call-list" not in artifacts(preview)

    state = unregistered_followup(as_of=close_plus_8, return_state=True)
    assert state.is_completed()
    assert state.result()["steps"] == ["close_plus_7", "call_list"]
    assert state.result()["close_plus_7"]["sent"] == 2
    assert {r.rcpt_tos for r in smtp.handler.received} == {
        ("ops@never.example",),
        ("ops@pending.example",),
    }
    found = artifacts(state)
    csv_text = found["call-list"].data
    assert isinstance(csv_text, str)
    assert orgs["never"].legacy_login_id in csv_text
    assert orgs["pending"].legacy_login_id in csv_text
    assert orgs["ready"].legacy_login_id not in csv_text
    assert "call-list-table" in found
    report = markdown(state, "unregistered-followup")
    assert "2 organizations without a verified registration" in report
    assert "| Sato | 2 |" in report


def test_helpdesk_recovery_registers_and_sends_the_link(
    app: App, session: Session, smtp: Server
) -> None:
    orgs = population(app, session)
    state = helpdesk_recovery(
        login_id=orgs["never"].legacy_login_id,
        person_name="Hanako Sato",
        email="hanako@owner.example",
        agent="yamada",
        role=Role.ADMINISTRATOR,
        return_state=True,
    )
    assert state.is_completed()
    assert state.result()["link_sent"] is True
    reg = session.scalars(
        select(Registration).where(Registration.email == "hanako@owner.example")
    ).one()
    assert reg.source is RegistrationSource.HELPDESK
    assert reg.submitted_by == "agent:yamada"
    assert smtp.handler.received[-1].rcpt_tos == ("hanako@owner.example",)
    assert "agent:yamada (source: helpdesk)" in markdown(state, "helpdesk-recovery")
    refused = helpdesk_recovery(
        login_id="NOPE", person_name="A", email="a@b.example", agent="y", return_state=True
    )
    assert refused.is_failed()
    assert "**Not registered:** no organization has the login ID 'NOPE'" in markdown(
        refused, "helpdesk-recovery"
    )


def test_dashboard_refresh_keeps_the_dashboards_figures(app: App, session: Session) -> None:
    population(app, session)
    state = dashboard_refresh(as_of=app.clock.now(), return_state=True)
    seconds = state.result()
    assert set(seconds) == set(snapshot.FIGURES)
    a_minute_later = app.clock.now() + dt.timedelta(minutes=1)
    kept = snapshot.read(session, "overview", now=a_minute_later, max_age=dt.timedelta(minutes=5))
    assert kept is not None and kept.value.total.organizations == 3
