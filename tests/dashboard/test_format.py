"""How the dashboard writes numbers, times and the call-list CSV."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from dashboard import format as fmt

TOKYO = ZoneInfo("Asia/Tokyo")


def test_csv_opens_in_excel_with_japanese_and_no_formulas() -> None:
    rows = [
        {
            "Organization": "函館昌豊汽船株式会社",
            "Phone": "+81 3-1234-5678",
            "Contact": '=HYPERLINK("http://evil")',
            "Last follow-up": dt.datetime(2025, 9, 15, 0, 30, tzinfo=dt.UTC),
            "Emails": 2,
            "Local name": None,
        }
    ]
    data = fmt.csv_bytes(rows, TOKYO)
    assert data.startswith(b"\xef\xbb\xbf"), "a byte-order mark tells Excel it is UTF-8"
    text = data.decode("utf-8-sig")
    header, line = text.splitlines()
    assert header == "Organization,Phone,Contact,Last follow-up,Emails,Local name"
    assert line.startswith("函館昌豊汽船株式会社,'+81 3-1234-5678,")
    assert "'=HYPERLINK" in line
    assert "2025-09-15 09:30" in line  # Tokyo time
    assert line.endswith(",2,")


def test_numbers_durations_and_countdowns() -> None:
    assert fmt.number(1234567) == "1,234,567"
    assert fmt.number(None) == "–"
    assert fmt.percent(0.1234) == "12.3 %"
    assert fmt.duration(90 * 60) == "90 min"
    assert fmt.duration(5 * 3600) == "5.0 h"
    assert fmt.duration(3 * 86400) == "3.0 days"
    assert fmt.countdown(75, "closed") == "75 days"
    assert fmt.countdown(1, "closed") == "tomorrow"
    assert fmt.countdown(0, "closed") == "today"
    assert fmt.countdown(-3, "closed") == "closed 3 days ago"
    assert fmt.plural(1, "organization") == "1 organization"
    assert fmt.plural(2310, "organization") == "2,310 organizations"
    assert fmt.label("waiting_on_customer") == "Waiting on customer"
    moment = dt.datetime(2025, 6, 30, 23, 30, tzinfo=dt.UTC)
    assert fmt.instant(moment, TOKYO, zone=True) == "2025-07-01 08:30 JST"
