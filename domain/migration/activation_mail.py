"""The activation emails of a migration batch, rendered in bulk.

A full render costs over a millisecond, and a migration sends hundreds of thousands. Most people
belong to one organization, so their email differs from the next person's in four plain values:
name, address, link and the organization's name. For each (language, role, expiry) the template
is rendered once with a marker word in place of each value, and cut at the markers; an email is
then the pieces joined with the values — escaped as Jinja escapes them in the HTML. (The project's
`domain.stencil` has no placeholder inside a list such as ``memberships``, hence this layout.)

English plain text is wrapped at 76 columns, so a line that holds a value is only filled in when
it stays within 76 columns (or is one unbreakable word, like the link); otherwise, and for values
with line breaks, control characters or doubled spaces, the email is rendered in full. The first
email of every layout is compared with `render_email`; on any difference the layout turns itself
off. People with several organizations get the full render.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import escape

from db.enums import Locale, Role
from domain.emails.render import TEXT_WIDTH, render_email
from domain.emails.rendered import RenderedEmail
from domain.settings import Settings

log = logging.getLogger(__name__)

TEMPLATE = "migration_activation"
# Plain letters: nothing escapes, wraps or styles them differently from the values they stand for.
_MARKERS = {
    "QzPersonNameQz": "name",
    "QzEmailAddressQz": "email",
    "QzActivationUrlQz": "url",
    "QzOrganizationNameQz": "organization",
}
_SPLIT = re.compile("(" + "|".join(_MARKERS) + ")")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ue000-\uf8ff]|Qz\w*Qz")


@dataclass(frozen=True)
class Membership:
    organization_name: str
    role: Role


class _Pattern:
    """Text cut at the value markers; filled in with a copy of its parts and one join."""

    def __init__(self, text: str) -> None:
        self.parts = _SPLIT.split(text)  # static text, marker, static text, ..., static text
        self.names = tuple(_MARKERS[marker] for marker in self.parts[1::2])
        self.static_length = sum(len(part) for part in self.parts[::2])

    def fill(self, values: Mapping[str, str]) -> str:
        parts = self.parts.copy()
        parts[1::2] = [values[name] for name in self.names]
        return "".join(parts)


class _Layout:
    """Emails of people with one membership of `role`, in `locale`, expiring at `expires_at`."""

    def __init__(
        self, locale: Locale, role: Role, expires_at: dt.datetime, settings: Settings
    ) -> None:
        self.locale = locale
        self.role = role
        self.expires_at = expires_at
        self.settings = settings
        self.verified = False
        marked = full_render(
            settings,
            locale,
            "QzPersonNameQz",
            "QzEmailAddressQz",
            "QzActivationUrlQz",
            expires_at,
            [Membership("QzOrganizationNameQz", role)],
        )
        self.subject = marked.subject
        self.html = _Pattern(marked.html)
        self.text = _Pattern(marked.text)
        marker_lines = [line for line in marked.text.split("\n") if _SPLIT.search(line)]
        # English lines over 76 columns are wrapped: the lines holding values are measured.
        self.value_lines = [_Pattern(line) for line in marker_lines]
        self.enabled = not _SPLIT.search(marked.subject) and not (
            locale is Locale.EN and any(len(line) > TEXT_WIDTH for line in marker_lines)
        )

    def render(self, name: str, email: str, url: str, organization: str) -> RenderedEmail | None:
        """The email, or None where only a full render gets it right."""
        if not self.enabled or not all(_fits(v) for v in (name, email, url, organization)):
            return None
        values = {"name": name, "email": email, "url": url, "organization": organization}
        if self.locale is Locale.EN:
            for line in self.value_lines:
                length = line.static_length + sum(len(values[n]) for n in line.names)
                if length > TEXT_WIDTH and " " in line.fill(values).strip():
                    return None  # render_email would wrap this line
        escaped = {key: str(escape(value)) for key, value in values.items()}
        filled = RenderedEmail(
            subject=self.subject,
            text=self.text.fill(values),
            html=self.html.fill(escaped),
        )
        if not self.verified:
            expected = full_render(
                self.settings,
                self.locale,
                name,
                email,
                url,
                self.expires_at,
                [Membership(organization, self.role)],
            )
            if filled != expected:
                log.warning("bulk activation emails (%s) are off: output differs", self.locale)
                self.enabled = False
                return None
            self.verified = True
        return filled


def _fits(value: str) -> bool:
    return bool(value) and value == " ".join(value.split()) and not _UNSAFE.search(value)


def full_render(
    settings: Settings,
    locale: Locale,
    name: str,
    email: str,
    url: str,
    expires_at: dt.datetime,
    memberships: Sequence[Membership],
) -> RenderedEmail:
    return render_email(
        TEMPLATE,
        locale,
        {
            "person_name": name,
            "email": email,
            "activation_url": url,
            "expires_at": expires_at,
            "memberships": [
                {"organization_name": m.organization_name, "role": m.role.value}
                for m in memberships
            ],
        },
        settings,
    )


class ActivationRenderer:
    """Shared by every batch of a run: layouts are made once per language, role and expiry.

    Batches may run in threads side by side: the layouts and the counts are kept under a lock.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._layouts: dict[tuple[Locale, Role, dt.datetime], _Layout] = {}
        self._lock = threading.Lock()
        self.fast = 0
        self.slow = 0

    def render(
        self,
        locale: Locale,
        name: str,
        email: str,
        url: str,
        expires_at: dt.datetime,
        memberships: Sequence[Membership],
    ) -> RenderedEmail:
        if len(memberships) == 1:
            found = self._layout(locale, memberships[0].role, expires_at).render(
                name, email, url, memberships[0].organization_name
            )
            if found is not None:
                with self._lock:
                    self.fast += 1
                return found
        with self._lock:
            self.slow += 1
        return full_render(self.settings, locale, name, email, url, expires_at, memberships)

    def _layout(self, locale: Locale, role: Role, expires_at: dt.datetime) -> _Layout:
        key = (locale, role, expires_at)
        with self._lock:
            layout = self._layouts.get(key)
            if layout is None:
                # One expiry per batch: drop layouts of earlier batches so the cache stays small.
                if len(self._layouts) > 24:
                    self._layouts.clear()
                layout = _Layout(locale, role, expires_at, self.settings)
                self._layouts[key] = layout
            return layout
