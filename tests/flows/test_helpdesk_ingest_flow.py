"""The helpdesk-ingest flow under Prefect: contacts stored, acknowledged, reported as artifacts."""

from __future__ import annotations

import datetime as dt
import mailbox
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import HelpdeskContact
from domain.context import App
from flows.helpdesk_ingest import helpdesk_ingest
from tests.flows.test_flows import artifacts, markdown
from tests.helpdesk_ingest.conftest import email_bytes
from tests.smtp_servers import Server

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_server", "flow_env")]

AS_OF = dt.datetime(2025, 7, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def stored(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(HelpdeskContact)) or 0)


def test_the_flow_reads_the_maildir_of_the_settings(
    app: App,
    session: Session,
    smtp: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    support = mailbox.Maildir(tmp_path / "support", create=True)
    support.add(email_bytes(subject="Cannot log in", text="We cannot log in."))
    support.add(
        email_bytes(
            subject="Re: Cannot log in",
            message_id="<r@owner.example>",
            in_reply_to="<q1@owner.example>",
        )
    )
    monkeypatch.setenv("SWITCHOVER_HELPDESK_MAILDIR", str(tmp_path / "support"))

    preview = helpdesk_ingest(as_of=AS_OF, dry_run=True, return_state=True)
    assert preview.is_completed()
    assert preview.result()["new_contacts"] == 1
    assert stored(session) == 0
    assert "**Dry run**" in markdown(preview, "helpdesk-ingest")

    state = helpdesk_ingest(as_of=AS_OF, return_state=True)
    assert state.is_completed()
    result = state.result()
    assert (result["new_contacts"], result["replies"], result["delivered"]) == (1, 1, 1)
    report = markdown(state, "helpdesk-ingest")
    assert "| new requests that were stored | 1 |" in report
    assert "| cannot_log_in | 2 |" in report
    assert "| references | 1 |" in report
    assert "**Delivery** (acknowledgements): 1 sent" in report
    assert "helpdesk-ingest-examples" in artifacts(state)
    [received] = smtp.handler.received
    assert received.rcpt_tos == ("taro@owner.example",)

    again = helpdesk_ingest(as_of=AS_OF, return_state=True)
    assert again.result()["duplicates"] == 2
    assert stored(session) == 2


def test_the_flow_fails_visibly_without_a_mailbox() -> None:
    state = helpdesk_ingest(as_of=AS_OF, return_state=True)
    assert state.is_failed()
    with pytest.raises(Exception, match="no support mailbox"):
        state.result()
