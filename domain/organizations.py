"""Small facts about organizations that several rules need."""

from __future__ import annotations

from db.enums import Locale
from db.models import Organization


def display_name(organization: Organization, locale: Locale | str | None = None) -> str:
    """The name its people know it by: the Japanese name for Japanese readers, when there is one."""
    wanted = Locale(locale) if locale is not None else organization.locale
    if wanted is Locale.JA and organization.name_local:
        return organization.name_local
    return organization.name
