"""What can go wrong when rendering an email, each with a message that says what to fix."""

from __future__ import annotations

from collections.abc import Iterable


class EmailTemplateError(Exception):
    """Base of every rendering error; callers that queue mail catch this one."""


class UnknownTemplate(EmailTemplateError, LookupError):
    def __init__(self, name: str, available: Iterable[str]) -> None:
        self.name = name
        self.available = tuple(available)
        super().__init__(f"unknown email template {name!r}; available: {', '.join(self.available)}")


class UnsupportedLocale(EmailTemplateError, ValueError):
    def __init__(self, locale: object, supported: Iterable[str]) -> None:
        self.locale = locale
        super().__init__(f"unsupported locale {locale!r}; use one of {', '.join(supported)}")


class TemplateContextError(EmailTemplateError, ValueError):
    """The context given to a template is incomplete or holds a value it cannot show."""


class MissingContext(TemplateContextError):
    """A key the template needs is absent: found up front, or by StrictUndefined while rendering."""

    def __init__(self, template: str, keys: Iterable[str], detail: str | None = None) -> None:
        self.template = template
        self.keys = tuple(keys)
        what = detail or (
            f"missing context key{'s' if len(self.keys) > 1 else ''} "
            + ", ".join(repr(k) for k in self.keys)
        )
        super().__init__(f"email template {template!r}: {what}")
