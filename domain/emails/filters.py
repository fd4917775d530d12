"""Jinja filters for emails: dates in the portal's time zone, counted days, role and category names.

People read dates where the portal lives (Asia/Tokyo by default), whatever zone the server runs
in, so every instant is converted with the zone from settings. The filters find the locale and
that zone in the render context (`LOCALE_KEY`, `TZ_KEY`): one Environment, compiled once, serves
every locale and every settings object.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from db.enums import HelpdeskCategory, Locale, Role
from domain.emails.template_errors import TemplateContextError
from domain.emails.vocabulary import CATEGORY_LABELS, ROLE_LABELS

LOCALE_KEY = "locale"
TZ_KEY = "_tz"

_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAYS_JA = "月火水木金土日"


def _local(value: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        # A naive value would be shown as if it were Tokyo time, or UTC, depending on who wrote
        # it; refusing it is the only way to never print a date off by nine hours.
        raise TemplateContextError(f"naive datetime {value.isoformat()} given to an email; use UTC")
    return value.astimezone(tz)


def _day(value: object, tz: ZoneInfo) -> dt.date:
    if isinstance(value, dt.datetime):
        return _local(value, tz).date()
    if isinstance(value, dt.date):
        return value
    raise TemplateContextError(f"expected a date or an aware datetime, got {value!r}")


def zone_label(moment: dt.datetime, locale: Locale) -> str:
    """How the zone of a local time is named: JST / 日本時間 for Tokyo, else its abbreviation."""
    if getattr(moment.tzinfo, "key", None) == "Asia/Tokyo":
        return "日本時間" if locale is Locale.JA else "JST"
    name = moment.tzname() or ""
    # Zones without a common abbreviation report "+08"; "UTC+08" reads better.
    return f"UTC{name}" if name[:1] in "+-" else name


def format_date(value: dt.date | dt.datetime, locale: Locale, tz: ZoneInfo) -> str:
    day = _day(value, tz)
    if locale is Locale.JA:
        return f"{day.year}年{day.month}月{day.day}日（{_WEEKDAYS_JA[day.weekday()]}）"
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def format_time(value: dt.datetime, locale: Locale, tz: ZoneInfo) -> str:
    moment = _local(value, tz)
    if locale is Locale.JA:
        return f"{moment.hour}:{moment.minute:02d}（{zone_label(moment, locale)}）"
    return f"{moment.hour:02d}:{moment.minute:02d} ({zone_label(moment, locale)})"


def format_datetime(value: dt.datetime, locale: Locale, tz: ZoneInfo) -> str:
    if not isinstance(value, dt.datetime):
        raise TemplateContextError(f"expected an aware datetime, got {value!r}")
    separator = "" if locale is Locale.JA else ", "
    return format_date(value, locale, tz) + separator + format_time(value, locale, tz)


def count_days(value: int, locale: Locale, *, business: bool = False) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TemplateContextError(f"expected a whole number of days, got {value!r}")
    if locale is Locale.JA:
        return f"{value}{'営業日' if business else '日'}"
    unit = "business day" if business else "day"
    return f"{value} {unit}{'' if value == 1 else 's'}"


def role_label(value: Role | str, locale: Locale) -> str:
    try:
        return ROLE_LABELS[locale][Role(value)]
    except ValueError:
        choices = ", ".join(role.value for role in Role)
        raise TemplateContextError(f"unknown role {value!r}; use one of {choices}") from None


def category_label(value: HelpdeskCategory | str, locale: Locale) -> str:
    try:
        return CATEGORY_LABELS[locale][HelpdeskCategory(value)]
    except ValueError:
        choices = ", ".join(category.value for category in HelpdeskCategory)
        raise TemplateContextError(
            f"unknown helpdesk category {value!r}; use one of {choices}"
        ) from None


def nl2br(value: str) -> Markup:
    """Escape a person's text, then keep their line breaks (Outlook ignores CSS pre-wrap)."""
    lines = str(value).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return Markup("<br>\n").join(escape(line) for line in lines)


def unescape(value: str) -> str:
    """Undo HTML escaping: for wording shared with the HTML part, reused in text and subjects."""
    return html.unescape(str(value))


def quote(value: str) -> str:
    """A person's text quoted e-mail style, so it stands apart from ours in the plain part."""
    lines = str(value).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(f"> {line}".rstrip() for line in lines)


def _locale(context: Context) -> Locale:
    return Locale(context[LOCALE_KEY])


def _tz(context: Context) -> ZoneInfo:
    tz = context[TZ_KEY]
    assert isinstance(tz, ZoneInfo)
    return tz


@pass_context
def _date_filter(context: Context, value: dt.date | dt.datetime) -> str:
    return format_date(value, _locale(context), _tz(context))


@pass_context
def _datetime_filter(context: Context, value: dt.datetime) -> str:
    return format_datetime(value, _locale(context), _tz(context))


@pass_context
def _time_filter(context: Context, value: dt.datetime) -> str:
    return format_time(value, _locale(context), _tz(context))


@pass_context
def _days_filter(context: Context, value: int) -> str:
    return count_days(value, _locale(context))


@pass_context
def _business_days_filter(context: Context, value: int) -> str:
    return count_days(value, _locale(context), business=True)


@pass_context
def _role_filter(context: Context, value: Role | str) -> str:
    return role_label(value, _locale(context))


@pass_context
def _category_filter(context: Context, value: HelpdeskCategory | str) -> str:
    return category_label(value, _locale(context))


FILTERS: dict[str, Callable[..., Any]] = {
    "date": _date_filter,
    "datetime": _datetime_filter,
    "time": _time_filter,
    "days": _days_filter,
    "business_days": _business_days_filter,
    "role_label": _role_filter,
    "category_label": _category_filter,
    "nl2br": nl2br,
    "quote": quote,
    "unescape": unescape,
}
