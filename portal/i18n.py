"""English and Japanese: which one a visitor sees, the Japanese catalogue, dates in each.

Texts are written in English where they are used (templates call ``_("…")``, code calls
`Translator.gettext`); the English text is the message id, and ``portal/locales/ja.toml`` maps it
to Japanese. A test extracts every message id from the templates and the code and fails when the
catalogue lacks one, so a page never shows half a language.

Which language: the visitor's explicit choice (kept in the session), else the organization's
locale once it has logged in, else the browser's Accept-Language, else English.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from db.enums import Locale

LOCALES_DIR = Path(__file__).with_name("locales")
SUPPORTED = (Locale.EN, Locale.JA)
DEFAULT = Locale.EN

_EN_MONTHS = (
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
_JA_WEEKDAYS = "月火水木金土日"


@lru_cache(maxsize=len(SUPPORTED))
def catalog(locale: Locale) -> dict[str, str]:
    """msgid → translation; English has none (the msgid is the English text)."""
    if locale is Locale.EN:
        return {}
    with (LOCALES_DIR / f"{locale.value}.toml").open("rb") as handle:
        data = tomllib.load(handle)
    return {str(key): str(value) for key, value in data.items()}


def N_(message: str) -> str:
    """Marks a message id for the catalogue where it is defined; it is translated when shown."""
    return message


def parse_locale(value: str | None) -> Locale | None:
    if not value:
        return None
    primary = value.strip().lower().replace("_", "-").split("-")[0]
    for locale in SUPPORTED:
        if locale.value == primary:
            return locale
    return None


def negotiate(accept_language: str | None) -> Locale | None:
    """The best supported language of an Accept-Language header (q-values honoured)."""
    if not accept_language:
        return None
    ranked: list[tuple[float, int, Locale]] = []
    for position, item in enumerate(accept_language.split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        locale = parse_locale(tag)
        if locale is not None and quality > 0:
            ranked.append((-quality, position, locale))
    return min(ranked)[2] if ranked else None


@dataclass(frozen=True)
class Translator:
    locale: Locale

    def gettext(self, message: str, **variables: Any) -> str:
        text = catalog(self.locale).get(message, message)
        return text % variables if variables else text

    def ngettext(self, singular: str, plural: str, count: int, **variables: Any) -> str:
        variables.setdefault("num", count)
        # Japanese has no plural forms: the catalogue translates the plural form only.
        if self.locale is Locale.EN:
            chosen = singular if count == 1 else plural
            return chosen % variables
        return catalog(self.locale).get(plural, plural) % variables

    def date(self, day: dt.date) -> str:
        """28 September 2025 / 2025年9月28日(日)"""
        if self.locale is Locale.JA:
            return f"{day.year}年{day.month}月{day.day}日({_JA_WEEKDAYS[day.weekday()]})"
        return f"{day.day} {_EN_MONTHS[day.month - 1]} {day.year}"

    def datetime(self, moment: dt.datetime, tz: ZoneInfo) -> str:
        """The local date and time, with the zone spelled out (visitors are worldwide)."""
        local = moment.astimezone(tz)
        zone = local.tzname() or tz.key
        if self.locale is Locale.JA:
            return f"{self.date(local.date())} {local:%H:%M} ({zone})"
        return f"{self.date(local.date())}, {local:%H:%M} ({zone})"


def _translator(context: Context) -> Translator:
    locale = context.get("locale")
    return Translator(locale if isinstance(locale, Locale) else DEFAULT)


# A page calls ``_()`` a few dozen times; these two run for every call.
@pass_context
def _gettext(context: Context, message: str) -> str:
    locale = context.get("locale")
    if locale is Locale.JA:
        return catalog(Locale.JA).get(message, message)
    return message


@pass_context
def _ngettext(context: Context, singular: str, plural: str, count: int) -> str:
    if context.get("locale") is Locale.JA:
        return catalog(Locale.JA).get(plural, plural)
    return singular if count == 1 else plural


@pass_context
def _format_date(context: Context, day: dt.date | dt.datetime | None) -> str:
    if day is None:
        return ""
    if isinstance(day, dt.datetime):
        tz = context.get("tz")
        day = day.astimezone(tz if isinstance(tz, ZoneInfo) else dt.UTC).date()
    return _translator(context).date(day)


@pass_context
def _format_datetime(context: Context, moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    tz = context.get("tz")
    return _translator(context).datetime(
        moment, tz if isinstance(tz, ZoneInfo) else ZoneInfo("UTC")
    )


def install(env: Environment) -> None:
    """Per-request language in templates: the context's ``locale`` picks the catalogue."""
    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True
    )
    env.filters["date"] = _format_date
    env.filters["datetime"] = _format_datetime
