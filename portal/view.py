"""Rendering a page: the language, the shared context every template sees, flash messages.

Templates get ``locale`` (which picks the catalogue), ``tz`` (dates are shown in the portal's
zone), the calendar, the helpdesk's addresses, the logged-in organization's name, a lazily created
CSRF token, and the flash messages of the previous request (post/redirect/get).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from db.enums import Locale
from domain.context import App
from portal import i18n
from portal.deps import (
    SESSION_LANG,
    SESSION_ORG_LABEL,
    SESSION_ORG_LABEL_LOCAL,
    SESSION_ORG_LOCALE,
    logged_in_id,
)
from portal.registration_form import ROLE_TEXT
from portal.security import CSRF_FIELD, csrf_token

FLASH_KEY = "flash"
FLASH_LEVELS = ("success", "info", "warning", "error")
_ROLE_LABELS = {role.value: texts[0] for role, texts in ROLE_TEXT.items()}


def request_locale(request: Request) -> Locale:
    chosen = i18n.parse_locale(request.session.get(SESSION_LANG)) if _has_session(request) else None
    if chosen is not None:
        return chosen
    if _has_session(request) and logged_in_id(request) is not None:
        organization_locale = i18n.parse_locale(request.session.get(SESSION_ORG_LOCALE))
        if organization_locale is not None:
            return organization_locale
    preferred = getattr(request.state, "preferred_locale", None)
    if isinstance(preferred, Locale):
        return preferred
    return i18n.negotiate(request.headers.get("accept-language")) or i18n.DEFAULT


def _has_session(request: Request) -> bool:
    return "session" in request.scope


def translator(request: Request) -> i18n.Translator:
    return i18n.Translator(request_locale(request))


class FlashRedirect(Exception):
    """Abandon the request's changes (the unit of work rolls back), tell the visitor, go back."""

    def __init__(self, url: str, level: str, message: str, **variables: Any) -> None:
        super().__init__(message)
        self.url = url
        self.level = level
        self.message = message
        self.variables = variables


def flash(request: Request, level: str, message: str, **variables: Any) -> None:
    """Keep a message (an English msgid and its values) for the next page the visitor sees."""
    if level not in FLASH_LEVELS:
        raise ValueError(f"unknown flash level {level!r}")
    pending = list(request.session.get(FLASH_KEY) or [])
    pending.append({"level": level, "message": message, "variables": variables})
    request.session[FLASH_KEY] = pending[-5:]


def _pop_flashes(request: Request) -> Callable[[], list[dict[str, str]]]:
    def pop() -> list[dict[str, str]]:
        if not _has_session(request):
            return []
        pending = request.session.pop(FLASH_KEY, None) or []
        words = translator(request)
        return [
            {
                "level": str(item.get("level", "info")),
                "text": words.gettext(str(item.get("message", "")), **item.get("variables", {})),
            }
            for item in pending
            if isinstance(item, dict)
        ]

    return pop


def _organization_label(request: Request, locale: Locale) -> str | None:
    """The logged-in organization's name for the header, in the page's language."""
    if not _has_session(request):
        return None
    local = request.session.get(SESSION_ORG_LABEL_LOCAL) if locale is Locale.JA else None
    label = local or request.session.get(SESSION_ORG_LABEL)
    return label if isinstance(label, str) else None


def _person_label(request: Request) -> str | None:
    """The logged-in person's name for the header (individual log-in), if one is logged in."""
    if not _has_session(request) or not isinstance(request.session.get("person"), int):
        return None
    label = request.session.get("person_label")
    return label if isinstance(label, str) else None


def context_processor(request: Request) -> dict[str, Any]:
    context: App | None = getattr(request.app.state, "context", None)
    locale = request_locale(request)
    shared: dict[str, Any] = {
        "locale": locale,
        "other_locale": Locale.JA if locale is Locale.EN else Locale.EN,
        "current_path": request.url.path,
        "logged_in": _has_session(request) and logged_in_id(request) is not None,
        "person_label": _person_label(request),
        "organization_label": _organization_label(request, locale),
        "csrf_field": CSRF_FIELD,
        "csrf_token": lambda: csrf_token(request),
        "flashes": _pop_flashes(request),
        "role_labels": _ROLE_LABELS,
    }
    if context is not None:
        settings = context.settings
        calendar = context.calendar
        shared |= {
            "tz": settings.tz,
            "calendar": calendar,
            "phase": calendar.phase(context.clock.now()),
            "helpdesk_name": settings.helpdesk_name,
            "helpdesk_email": str(settings.helpdesk_email),
        }
    return shared


# Routes whose parameters take a handful of values (files, languages): their URLs are remembered.
_FEW_URLS = frozenset({"static", "set_language"})


@pass_context
def url_for(context: Context, name: str, /, **path_params: Any) -> str:
    """A site-relative URL, remembered for routes without parameters (nav) and `_FEW_URLS`.

    Starlette's own builds an absolute URL by searching every route, about 0.1 ms a call and a
    page has a dozen; relative URLs also keep working behind a proxy that rewrites the host.
    """
    request: Request = context["request"]
    root = str(request.scope.get("root_path", ""))
    cacheable = not path_params or name in _FEW_URLS
    key = (root, name, tuple(sorted(path_params.items())) if path_params else ())
    cache: dict[tuple[object, ...], str] = request.app.state.url_cache
    if cacheable and key in cache:
        return cache[key]
    url: str = root + str(request.app.url_path_for(name, **path_params))
    if cacheable and len(cache) < 1000:
        cache[key] = url
    return url


def install(templates: Jinja2Templates) -> None:
    i18n.install(templates.env)
    templates.env.globals["url_for"] = url_for
    templates.context_processors.append(context_processor)


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    response = templates.TemplateResponse(request, name, context or {}, status_code=status_code)
    response.headers.append("Vary", "Accept-Language")
    return response


def redirect(url: str) -> RedirectResponse:
    """After a POST: 303 so the browser GETs the page (and a reload does not resubmit)."""
    return RedirectResponse(url, status_code=303)
