"""After the close: escalation to organizations that have no verified registration.

The steps come from the campaign file (`domain.campaign`): emails at close+1 and close+7 to every
contact on file, a call list for account managers, and after the switch an email explaining how
to regain access through the helpdesk. The emails go through `domain.mailing` like reminders;
this module adds the call list. Its rows are the dashboard's (`db.dashboard.followup.call_list`),
so the CSV a flow publishes and the list managers see live never disagree.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from db.dashboard import followup as dashboard
from domain import audit
from domain.clock import Calendar, Clock
from domain.emails.catalog import FOLLOWUP_STEPS
from domain.segments import Segment

CSV_COLUMNS = (
    ("account_manager", "account manager"),
    ("login_id", "login ID"),
    ("organization", "organization"),
    ("name_local", "local name"),
    ("country", "country"),
    ("locale", "language"),
    ("segment", "segment"),
    ("followup_step", "follow-up reached"),
    ("followup_emails", "follow-up emails"),
    ("last_followup_at", "last follow-up"),
    ("phone", "phone"),
    ("contact_name", "contact"),
    ("contact_email", "contact email"),
)


@dataclass(frozen=True)
class CallList:
    rows: tuple[Mapping[str, Any], ...]
    generated_at: dt.datetime

    @property
    def by_manager(self) -> Counter[str]:
        return Counter(row["account_manager"] or "(no account manager)" for row in self.rows)


def build_call_list(session: Session, clock: Clock, segments: Collection[Segment]) -> CallList:
    """The organizations of `segments`, furthest escalated first (every row, for the CSV)."""
    wanted = tuple(dashboard.Segment(s.value) for s in segments if s is not Segment.READY)
    listed = dashboard.call_list(
        session, FOLLOWUP_STEPS, dashboard.CallListFilter(segments=wanted), limit=None
    )
    rows = tuple(
        {
            **row,
            "followup_step": dashboard.level_label(
                row["level"], FOLLOWUP_STEPS, row["followup_emails"]
            ),
        }
        for row in listed.rows
    )
    return CallList(rows=rows, generated_at=clock.now())


def _cell(value: object) -> object:
    # A spreadsheet runs a cell starting with = + - @ as a formula; names and phone numbers are
    # customer data, so such text is kept as text with the leading apostrophe Excel hides.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def call_list_csv(rows: Sequence[Mapping[str, Any]], calendar: Calendar) -> str:
    """The call list as CSV (UTF-8, comma-separated, a header line, one organization a line)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(title for _, title in CSV_COLUMNS)
    for row in rows:
        values = []
        for column, _ in CSV_COLUMNS:
            value = row.get(column)
            if isinstance(value, dt.datetime):
                value = calendar.local(value).strftime("%Y-%m-%d %H:%M")
            values.append(_cell("" if value is None else value))
        writer.writerow(values)
    return buffer.getvalue()


def record_published(
    session: Session, clock: Clock, call: CallList, *, step: str, actor: str
) -> None:
    """One audit event for the list handed to account managers (not one per organization)."""
    audit.record(
        session,
        clock,
        actor=actor,
        action="followup.call_list_published",
        entity_type="call_list",
        entity_id=None,
        step=step,
        organizations=len(call.rows),
        by_manager=dict(call.by_manager),
    )
