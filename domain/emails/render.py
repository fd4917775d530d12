"""Render an email of the catalogue into a subject, a plain-text part and an HTML part.

Templates live in ``templates/<name>/<locale>/`` as ``subject.txt``, ``body.txt`` and
``body.html``; the bodies extend one layout per format (``layout.txt``, ``layout.html``) whose
footer carries the helpdesk contact from settings. HTML is autoescaped, text and subjects are
not (they are not HTML); subjects are squeezed onto one line so that no value can add a header.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, UndefinedError, select_autoescape

from db.enums import Locale
from domain.clock import Calendar
from domain.emails.catalog import TEMPLATES, TemplateSpec
from domain.emails.filters import FILTERS, LOCALE_KEY, TZ_KEY
from domain.emails.rendered import RenderedEmail
from domain.emails.styles import font, inline_styles
from domain.emails.template_errors import (
    EmailTemplateError,
    MissingContext,
    TemplateContextError,
    UnknownTemplate,
    UnsupportedLocale,
)
from domain.emails.vocabulary import permission_matrix
from domain.settings import Settings

__all__ = [
    "TEMPLATES",
    "EmailTemplateError",
    "MissingContext",
    "TemplateContextError",
    "TemplateSpec",
    "UnknownTemplate",
    "UnsupportedLocale",
    "base_context",
    "environment",
    "render_email",
]

TEMPLATE_DIR = Path(__file__).with_name("templates")
TEXT_WIDTH = 76
# The outbox column holds 500 characters; a subject is cut well before, as mail clients do.
SUBJECT_MAX = 200

# Line breaks of every kind (CR, LF, NEL, U+2028…) and other control characters: any of them in
# a subject could start a new header line or confuse a mail client.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_UNDEFINED_KEY = re.compile(r"'([^']+)' is undefined|has no attribute '([^']+)'")
# English dates and times as the filters write them ("14 September 2025, 23:59 (JST)").
_EN_DATE = re.compile(
    r"\d{1,2} (?:January|February|March|April|May|June|July|August|September|October|November"
    r"|December) \d{4}(?:, \d{2}:\d{2} \([^)\s]+\))?"
)
_GLUE = "\ue000"  # a private-use character: holds a date together while textwrap runs
# Indented and list lines keep their indent (and hang under the bullet) when wrapped.
_HANGING_PREFIX = re.compile(r"\s*(?:[-*]\s+|\d+\.\s+)?")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(
            enabled_extensions=("html",), default_for_string=False, default=False
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates do not change under a running process; skip the mtime check per render.
        auto_reload=False,
    )
    env.filters.update(FILTERS)
    return env


def base_context(settings: Settings, locale: Locale) -> dict[str, Any]:
    """What every template receives from settings; callers may not override these keys."""
    calendar = Calendar.from_settings(settings)
    return {
        LOCALE_KEY: locale.value,
        TZ_KEY: settings.tz,
        "portal_name": settings.portal_name,
        "portal_url": settings.public_url("/"),
        # Where a person asks for a new activation or password link themselves.
        "recover_url": settings.public_url("/account/recover"),
        "helpdesk_name": settings.helpdesk_name,
        "helpdesk_email": str(settings.helpdesk_email),
        "helpdesk_form_url": str(settings.helpdesk_form_url),
        "opens_on": settings.preregistration_opens,
        "closes_on": settings.preregistration_closes,
        "switch_on": settings.switch_date,
        # The form closes at the end of the close day; people are told "until 23:59".
        "deadline": calendar.closes_at - dt.timedelta(minutes=1),
        "permissions": permission_matrix(locale, settings.portal_name),
        "font": font(locale),
    }


def _locale(value: Locale | str) -> Locale:
    try:
        return Locale(value)
    except ValueError:
        raise UnsupportedLocale(value, [locale.value for locale in Locale]) from None


def _check(spec: TemplateSpec, context: Mapping[str, Any], base: Mapping[str, Any]) -> None:
    # None would print as "None" in front of a customer: for a required key it counts as absent.
    missing = [key for key in spec.required if context.get(key) is None]
    if missing:
        raise MissingContext(spec.name, missing)
    clashing = sorted((set(base) | {"subject"}) & set(context))
    if clashing:
        raise TemplateContextError(
            f"email template {spec.name!r}: {', '.join(clashing)} come from settings; "
            "remove them from the context"
        )
    for key, allowed in spec.choices.items():
        if str(context[key]) not in allowed:
            raise TemplateContextError(
                f"email template {spec.name!r}: {key}={context[key]!r} is not one of "
                + ", ".join(allowed)
            )


def clean_subject(raw: str) -> str:
    subject = " ".join(_CONTROL.sub(" ", raw).split())
    if not subject:
        raise TemplateContextError("the subject rendered empty")
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1].rstrip() + "…"
    return subject


def _wrap(line: str) -> list[str]:
    if len(line) <= TEXT_WIDTH or line.startswith(">"):
        return [line]
    match = _HANGING_PREFIX.match(line)
    prefix = match.group(0) if match else ""
    # A date is read as one unit: "14 September / 2025" across two lines is easy to misread.
    body = _EN_DATE.sub(lambda found: found[0].replace(" ", _GLUE), line[len(prefix) :])
    wrapped = textwrap.wrap(
        body,
        width=TEXT_WIDTH,
        initial_indent=prefix,
        subsequent_indent=" " * len(prefix),
        break_long_words=False,  # a URL must stay whole to stay clickable
        break_on_hyphens=False,
    )
    return [part.replace(_GLUE, " ") for part in wrapped] or [line]


def tidy_text(text: str, locale: Locale) -> str:
    """Trailing spaces off, at most one blank line in a row; English wrapped for plain readers.

    Japanese is left unwrapped: it has no spaces to break at, and mail clients wrap it well.
    """
    lines = [line.rstrip() for line in text.splitlines()]
    if locale is Locale.EN:
        lines = [part for line in lines for part in _wrap(line)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def _render(name: str, locale: Locale, part: str, values: Mapping[str, Any]) -> str:
    return environment().get_template(f"{name}/{locale.value}/{part}").render(values)


def render_email(
    template: str,
    locale: Locale | str,
    context: Mapping[str, Any],
    settings: Settings,
) -> RenderedEmail:
    """Subject, text and HTML of `template` in `locale`; raises an `EmailTemplateError` if the
    template is unknown or the context lacks or misstates something it needs."""
    spec = TEMPLATES.get(template)
    if spec is None:
        raise UnknownTemplate(template, TEMPLATES)
    language = _locale(locale)
    base = base_context(settings, language)
    _check(spec, context, base)
    # Optional keys default to None, so templates test them with a plain `{% if key %}`.
    values = base | dict.fromkeys(spec.optional) | dict(context)
    try:
        if spec.derive is not None:
            values |= spec.derive(values)
        subject = clean_subject(_render(template, language, "subject.txt", values))
        text = tidy_text(_render(template, language, "body.txt", values), language)
        html = _render(template, language, "body.html", values | {"subject": subject})
    except UndefinedError as exc:
        found = _UNDEFINED_KEY.search(exc.message or "")
        key = next((group for group in found.groups() if group), "?") if found else "?"
        raise MissingContext(
            template, [key], f"({language.value}) {exc.message}; add it to the context"
        ) from None
    except TemplateContextError as exc:
        raise TemplateContextError(
            f"email template {template!r} ({language.value}): {exc}"
        ) from None
    return RenderedEmail(subject=subject, text=text, html=inline_styles(html, language))
