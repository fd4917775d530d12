"""The flows' reports, as operators read them in the Prefect UI (plain functions, no Prefect)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from db.queries import OutboxCounts
from domain.campaign import load_campaign
from domain.clock import Calendar
from domain.emails.sender import DeliverySummary
from domain.mailing import MailingResult, SampleEmail
from domain.segments import Segment
from domain.settings import Settings
from flows import reports


def sample(segment: str, locale: str, recipient: str = "contact", n: int = 0) -> SampleEmail:
    return SampleEmail(segment, locale, recipient, "NK1", f"a{n}@b.example", "Subject", "Body\n")


def test_tables_keep_cell_text_in_its_cell() -> None:
    text = reports.table(("name", "n"), [("A | B\nC", 1), (None, 2)])
    assert text.splitlines() == ["| name | n |", "|---|---|", "| A \\| B C | 1 |", "|   | 2 |"]


def test_three_samples_as_different_as_there_are() -> None:
    samples = [
        sample("never_registered", "en"),
        sample("never_registered", "en", n=1),
        sample("never_registered", "ja"),
        sample("nothing_verified", "en", "registered person"),
        sample("no_verified_admin", "en"),
    ]
    chosen = reports.pick_samples(samples)
    assert {s.segment for s in chosen} == {
        "never_registered",
        "nothing_verified",
        "no_verified_admin",
    }
    assert reports.pick_samples(samples[:2]) == samples[:2]  # fewer kinds: still up to three
    assert reports.pick_samples([]) == []


def test_a_mailing_section_counts_by_segment() -> None:
    settings = Settings(_env_file=None)
    scheduled = load_campaign(settings).step("T-7")
    result = MailingResult(
        organizations=Counter({Segment.NEVER_REGISTERED: 3, Segment.NO_VERIFIED_ADMIN: 1}),
        unreachable=Counter({Segment.NEVER_REGISTERED: 1}),
        planned=Counter({Segment.NEVER_REGISTERED: 4, Segment.NO_VERIFIED_ADMIN: 2}),
        already_sent=5,
        invalid_addresses=1,
        created=6,
    )
    text = reports.mailing_section(scheduled, result, (6, 0))
    assert "| never registered | 3 | 1 | 4 |" in text
    assert "| registered but nothing verified | 0 | 0 | 0 |" in text
    assert "| **total** | 4 | 1 | 6 |" in text
    assert "5 addresses already had this step" in text
    assert "1 addresses on file are not valid" in text
    assert "6 emails queued" in text
    assert "emails queued" not in reports.mailing_section(scheduled, result, dry_run=True)


def test_delivery_says_when_the_relay_was_down() -> None:
    down = DeliverySummary(claimed=3, retried=3, relay_error="connection refused")
    text = reports.delivery_lines(down, "emails of step T-7")
    assert "0 sent, 3 to retry, 0 failed" in text
    assert "could not be reached** (connection refused)" in text
    assert reports.delivery_lines(None, "x") == ""


def test_the_outbox_section_shows_how_long_the_oldest_has_waited() -> None:
    calendar = Calendar.from_settings(Settings(_env_file=None))
    now = dt.datetime(2025, 9, 7, 1, 0, tzinfo=dt.UTC)
    counts = OutboxCounts(
        by_status={"queued": 2, "sending": 0, "sent": 9, "failed": 1, "bounced": 0},
        due_now=2,
        oldest_due_at=now - dt.timedelta(minutes=42),
    )
    text = reports.outbox_section(counts, calendar, now)
    assert "| queued | 2 |" in text
    assert "2 due now; the oldest has waited 42 min (due since 2025-09-07 09:18 (JST))" in text
