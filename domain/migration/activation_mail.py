"""The activation emails of a migration batch, rendered in bulk.

A full render costs over a millisecond, and a migration sends hundreds of thousands. Most people
belong to one organization, so their email differs from the next person's in four plain values:
name, address, link, and the organization's name. A `domain.stencil.Stencil` per (language, role,
expiry) fills the first three. The organization's name sits inside the ``memberships`` list,
where a stencil has no placeholder, so the stencil is built with a marker word there, and the
marker is replaced afterwards — escaped as Jinja escapes it in the HTML, and only where the text
line that holds it needs no re-wrapping (English plain text is wrapped at 76 columns). The first
email of every stencil is compared with `render_email`; on any difference the fast path turns
itself off. People with several organizations get the full render.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import escape

from db.enums import Locale, Role
from domain.emails.render import TEXT_WIDTH, render_email
from domain.emails.rendered import RenderedEmail
from domain.settings import Settings
from domain.stencil import Stencil

log = logging.getLogger(__name__)

TEMPLATE = "migration_activation"
_MARKER = "QzOrganizationNameQz"  # plain letters: nothing escapes, wraps or styles it differently
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ue000-\uf8ff]")
_VARIABLE = ("person_name", "email", "activation_url")


@dataclass(frozen=True)
class Membership:
    organization_name: str
    role: Role


class _OneOrganization:
    """Emails of people with one membership of `role`, in `locale`, expiring at `expires_at`."""

    def __init__(
        self, locale: Locale, role: Role, expires_at: dt.datetime, settings: Settings
    ) -> None:
        self.locale = locale
        self.role = role
        self.expires_at = expires_at
        self.settings = settings
        fixed = {
            "expires_at": expires_at,
            "memberships": [{"organization_name": _MARKER, "role": role.value}],
        }
        self.stencil = Stencil(TEMPLATE, locale, fixed, _VARIABLE, settings)
        self.enabled = self.stencil.enabled
        self.verified = False

    def render(self, name: str, email: str, url: str, organization: str) -> RenderedEmail | None:
        """The email, or None where only a full render gets it right."""
        if not self.enabled or not _fits(organization):
            return None
        marked = self.stencil.render({"person_name": name, "email": email, "activation_url": url})
        filled = _replace(marked, organization, self.locale)
        if filled is None:
            return None
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


def _replace(email: RenderedEmail, organization: str, locale: Locale) -> RenderedEmail | None:
    text = email.text
    at = text.find(_MARKER)
    if at < 0 or text.find(_MARKER, at + 1) >= 0 or _MARKER in email.subject:
        return None
    if locale is Locale.EN:
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        length = (len(text) if end < 0 else end) - start - len(_MARKER) + len(organization)
        if length > TEXT_WIDTH:
            return None  # render_email would wrap this line
    html = email.html
    if html.count(_MARKER) != 1:
        return None
    return RenderedEmail(
        subject=email.subject,
        text=text.replace(_MARKER, organization),
        html=html.replace(_MARKER, str(escape(organization))),
    )


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
    """Shared by every batch of a run: stencils are built once per language, role and expiry."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stencils: dict[tuple[Locale, Role, dt.datetime], _OneOrganization] = {}
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
            key = (locale, memberships[0].role, expires_at)
            stencil = self._stencils.get(key)
            if stencil is None:
                # One expiry per batch: drop stencils of earlier batches so the cache stays small.
                if len(self._stencils) > 24:
                    self._stencils.clear()
                stencil = _OneOrganization(locale, memberships[0].role, expires_at, self.settings)
                self._stencils[key] = stencil
            found = stencil.render(name, email, url, memberships[0].organization_name)
            if found is not None:
                self.fast += 1
                return found
        self.slow += 1
        return full_render(self.settings, locale, name, email, url, expires_at, memberships)
