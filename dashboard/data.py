"""Cached reads: every figure the pages show, from `db.dashboard`, kept for a short while.

Several managers keep the dashboard open all day; with a short ttl they share one computation
of each figure instead of each tab querying the database on every refresh. Arguments are plain
values (strings, tuples) so Streamlit can key the cache on them.

The heavy figures (those `db.dashboard.snapshot.FIGURES` names) come from the snapshot the
dashboard-refresh flow keeps, while it is younger than `dashboard_snapshot_max_age_seconds`,
and are computed live otherwise; `as_of` tells a page which it showed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from dashboard import runtime
from db.dashboard import campaigns, followup, helpdesk, migration, organizations, overview, snapshot
from db.dashboard.common import Stage
from db.enums import HelpdeskCategory, HelpdeskChannel, HelpdeskStatus
from domain.emails.catalog import FOLLOWUP_STEPS

TTL = 30  # seconds: figures are at most this old; the live panels refresh on the same beat


@st.cache_data(ttl=TTL, show_spinner=False)
def _figures(name: str) -> snapshot.Figures:
    """One heavy figure: from a fresh snapshot if there is one, else computed now."""
    settings = runtime.settings()
    inputs = snapshot.Inputs(tz=settings.tz, now=runtime.now(), followup_steps=FOLLOWUP_STEPS)
    max_age = settings.dashboard_snapshot_max_age_seconds
    with runtime.reading() as session:
        return snapshot.figures(
            session, name, inputs, max_age=dt.timedelta(seconds=max_age) if max_age else None
        )


def as_of(name: str) -> dt.datetime | None:
    """When the figure `name` shown was computed, if it came from a snapshot (None: live)."""
    return _figures(name).as_of


def funnel() -> overview.Overview:
    """The funnel, its breakdowns and registrations per day: read together, they share the
    pass over the registrations."""
    figure: overview.Overview = _figures("overview").value
    return figure


def registrations_per_day() -> list[overview.DailyRegistrations]:
    return list(funnel().daily)


def organization_options() -> tuple[list[str], list[tuple[str, str]]]:
    figure: tuple[list[str], list[tuple[str, str]]] = _figures("organization_options").value
    return figure


def organization_page(
    search: str,
    stages: tuple[str, ...],
    countries: tuple[str, ...],
    service: str | None,
    administrator: str,
    offset: int,
) -> organizations.OrganizationPage:
    """One page of organizations (the unfiltered first page from the snapshot when fresh)."""
    if (search, stages, countries, service, offset) == ("", (), (), None, 0) and (
        administrator == organizations.AdministratorFilter.ANY.value
    ):
        figure: organizations.OrganizationPage = _figures("organization_page").value
        return figure
    return _organization_page(search, stages, countries, service, administrator, offset)


@st.cache_data(ttl=TTL, show_spinner=False)
def _organization_page(
    search: str,
    stages: tuple[str, ...],
    countries: tuple[str, ...],
    service: str | None,
    administrator: str,
    offset: int,
) -> organizations.OrganizationPage:
    flt = organizations.OrganizationFilter(
        search=search,
        stages=tuple(Stage(s) for s in stages),
        countries=countries,
        service=service,
        administrator=organizations.AdministratorFilter(administrator),
    )
    with runtime.reading() as session:
        return organizations.list_organizations(session, flt, offset=offset)


@st.cache_data(ttl=TTL, show_spinner=False)
def organization_detail(organization_id: int) -> organizations.OrganizationDetail | None:
    with runtime.reading() as session:
        return organizations.organization_detail(session, organization_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def organization_by_login(login_id: str) -> int | None:
    with runtime.reading() as session:
        return organizations.find_organization_id(session, login_id)


def campaign_mail() -> campaigns.CampaignMail:
    """Campaign steps and other email: one read of the outbox's delivery counts for both."""
    figure: campaigns.CampaignMail = _figures("campaign_mail").value
    return figure


def waves() -> list[migration.WaveProgress]:
    figure: list[migration.WaveProgress] = _figures("waves").value
    return figure


def migration_problems() -> tuple[list[tuple[str, int]], list[dict[str, Any]]]:
    figure: tuple[list[tuple[str, int]], list[dict[str, Any]]]
    figure = _figures("migration_problems").value
    return figure


def rollback_history() -> list[dict[str, Any]]:
    figure: list[dict[str, Any]] = _figures("rollback_history").value
    return figure


def accounts() -> migration.Accounts:
    figure: migration.Accounts = _figures("accounts").value
    return figure


def escalation() -> list[followup.EscalationCount]:
    """Every organization not ready, by segment and step: read with the unfiltered call list."""
    return followup_page((), (), (), None).summary


def _call_list_filter(
    segments: tuple[str, ...],
    levels: tuple[int, ...],
    countries: tuple[str, ...],
    account_manager: str | None,
) -> followup.CallListFilter:
    return followup.CallListFilter(
        segments=tuple(followup.Segment(s) for s in segments),
        levels=levels,
        countries=countries,
        account_manager=account_manager,
    )


def followup_page(
    segments: tuple[str, ...],
    levels: tuple[int, ...],
    countries: tuple[str, ...],
    account_manager: str | None,
) -> followup.FollowupPage:
    """The escalation summary and the first page of the call list, from one statement (the
    unfiltered page from the snapshot when there is a fresh one)."""
    if not (segments or levels or countries or account_manager):
        figure: followup.FollowupPage = _figures("followup").value
        return figure
    return _filtered_followup_page(segments, levels, countries, account_manager)


@st.cache_data(ttl=TTL, show_spinner=False)
def _filtered_followup_page(
    segments: tuple[str, ...],
    levels: tuple[int, ...],
    countries: tuple[str, ...],
    account_manager: str | None,
) -> followup.FollowupPage:
    flt = _call_list_filter(segments, levels, countries, account_manager)
    with runtime.reading() as session:
        return followup.followup_page(session, FOLLOWUP_STEPS, flt)


def call_list(
    segments: tuple[str, ...],
    levels: tuple[int, ...],
    countries: tuple[str, ...],
    account_manager: str | None,
) -> followup.CallList:
    """The first page of the call list (what the table shows)."""
    return followup_page(segments, levels, countries, account_manager).call_list


def whole_call_list(
    segments: tuple[str, ...],
    levels: tuple[int, ...],
    countries: tuple[str, ...],
    account_manager: str | None,
) -> followup.CallList:
    """Every matching organization, for the CSV; not cached, it is read once per download."""
    flt = _call_list_filter(segments, levels, countries, account_manager)
    with runtime.reading() as session:
        return followup.call_list(session, FOLLOWUP_STEPS, flt, limit=None)


def account_managers() -> list[str]:
    figure: list[str] = _figures("account_managers").value
    return figure


def helpdesk_per_day() -> helpdesk.ContactsPerDay:
    figure: helpdesk.ContactsPerDay = _figures("helpdesk_per_day").value
    return figure


def helpdesk_backlog() -> helpdesk.Backlog:
    figure: helpdesk.Backlog = _figures("helpdesk_backlog").value
    return figure


def helpdesk_times() -> helpdesk.ResponseTimes:
    figure: helpdesk.ResponseTimes = _figures("helpdesk_times").value
    return figure


OPEN = tuple(s.value for s in helpdesk.OPEN_STATUSES)  # the contact list's default filter


def helpdesk_contacts(
    statuses: tuple[str, ...], categories: tuple[str, ...], channels: tuple[str, ...], search: str
) -> tuple[list[dict[str, Any]], int]:
    """The newest matching contacts (those open, the default, from the snapshot when fresh)."""
    if statuses == OPEN and not (categories or channels or search):
        figure: tuple[list[dict[str, Any]], int] = _figures("helpdesk_contacts").value
        return figure
    return _helpdesk_contacts(statuses, categories, channels, search)


@st.cache_data(ttl=TTL, show_spinner=False)
def _helpdesk_contacts(
    statuses: tuple[str, ...], categories: tuple[str, ...], channels: tuple[str, ...], search: str
) -> tuple[list[dict[str, Any]], int]:
    flt = helpdesk.ContactFilter(
        statuses=tuple(HelpdeskStatus(s) for s in statuses),
        categories=tuple(HelpdeskCategory(c) for c in categories),
        channels=tuple(HelpdeskChannel(c) for c in channels),
        search=search,
    )
    with runtime.reading() as session:
        return helpdesk.list_contacts(session, flt)


def helpdesk_contact(contact_id: int) -> dict[str, Any] | None:
    """Not cached: an agent about to change a contact must see it as it is now."""
    with runtime.reading() as session:
        return helpdesk.contact_detail(session, contact_id)


HELPDESK_FIGURES = ("helpdesk_per_day", "helpdesk_backlog", "helpdesk_times", "helpdesk_contacts")


def forget_helpdesk() -> None:
    """After an agent's change, the helpdesk figures are recomputed on the next look (live,
    until the next refresh keeps them again)."""
    with runtime.app().unit_of_work() as session:
        snapshot.forget(session, HELPDESK_FIGURES)
    for cached in (_figures, _helpdesk_contacts):
        cached.clear()
    organization_detail.clear()
