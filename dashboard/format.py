"""Numbers, dates and durations as managers read them: grouped digits, Asia/Tokyo time."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

DATE_TIME = "%Y-%m-%d %H:%M"
DASH = "–"


def number(value: int | float | None) -> str:
    if value is None:
        return DASH
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 organization', '2,310 organizations'."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"


def percent(share: float | None, digits: int = 1) -> str:
    return DASH if share is None else f"{share * 100:.{digits}f} %"


def instant(value: dt.datetime | None, tz: ZoneInfo, *, zone: bool = False) -> str:
    """'2025-07-01 09:00' in `tz` (with ' JST' when `zone`); a dash for nothing."""
    if value is None:
        return DASH
    local = value.astimezone(tz)
    text = local.strftime(DATE_TIME)
    return f"{text} {local.tzname()}" if zone else text


def day(value: dt.date | None) -> str:
    return DASH if value is None else value.strftime("%a %-d %b %Y")


def duration(seconds: float | None) -> str:
    """A span as people say it: minutes under two hours, hours under two days, then days."""
    if seconds is None:
        return DASH
    minutes = seconds / 60
    if minutes < 120:
        return f"{minutes:.0f} min"
    hours = minutes / 60
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def countdown(days: int, event: str) -> str:
    if days > 1:
        return f"{days} days"
    if days == 1:
        return "tomorrow"
    if days == 0:
        return "today"
    return f"{event} {-days} days ago"


def table(rows: Iterable[Mapping[str, Any]], tz: ZoneInfo) -> list[dict[str, Any]]:
    """Rows for a data grid: instants as local time text, enum values as they are."""
    return [
        {
            key: instant(value, tz) if isinstance(value, dt.datetime) else value
            for key, value in row.items()
        }
        for row in rows
    ]


def label(value: str | None) -> str:
    """'waiting_on_customer' -> 'Waiting on customer'."""
    if not value:
        return DASH
    text = value.replace("_", " ")
    return text[0].upper() + text[1:]


def csv_bytes(rows: Iterable[Mapping[str, Any]], tz: ZoneInfo) -> bytes:
    """CSV for a spreadsheet: local times, UTF-8 with a byte-order mark so that Excel shows
    Japanese names rather than mojibake."""
    buffer = io.StringIO()
    writer: csv.DictWriter[str] | None = None
    for row in table(rows, tz):
        if writer is None:
            writer = csv.DictWriter(buffer, fieldnames=list(row), lineterminator="\r\n")
            writer.writeheader()
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return buffer.getvalue().encode("utf-8-sig")


def _cell(value: Any) -> Any:
    # A spreadsheet runs a cell starting with = + - @ as a formula, and names and phone numbers
    # are customer data: such text stays text behind the apostrophe Excel hides.
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
