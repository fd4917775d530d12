"""Small facts about organizations that several rules need."""

from __future__ import annotations

from db.enums import Locale
from db.models import Organization


def display_name(organization: Organization, locale: Locale | str | None = None) -> str:
    """The name its people know it by: the Japanese name for Japanese readers, when there is one."""
    wanted = Locale(locale) if locale is not None else organization.locale
    return name_for(organization.name, organization.name_local, wanted)


def name_for(name: str, name_local: str | None, locale: Locale) -> str:
    """`display_name` from the columns, for queries that load no Organization."""
    if locale is Locale.JA and name_local:
        return name_local
    return name
