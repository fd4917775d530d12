"""Cached reads: every figure the pages show, from `db.dashboard`, kept for a short while.

Several managers keep the dashboard open all day; with a short ttl they share one computation
of each figure instead of each tab querying the database on every refresh. Arguments are plain
values (strings, tuples) so Streamlit can key the cache on them.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import runtime
from db.dashboard import campaigns, followup, helpdesk, migration, organizations, overview
from db.dashboard.common import Stage
from db.enums import HelpdeskCategory, HelpdeskChannel, HelpdeskStatus
from domain.emails.catalog import FOLLOWUP_STEPS

TTL = 30  # seconds: figures are at most this old; the live panels refresh on the same beat


@st.cache_data(ttl=TTL, show_spinner=False)
def funnel() -> overview.Overview:
    """The funnel, its breakdowns and registrations per day: read together, they share the
    pass over the registrations."""
    with runtime.reading() as session:
        return overview.overview(session, runtime.settings().tz)


def registrations_per_day() -> list[overview.DailyRegistrations]:
    return list(funnel().daily)


@st.cache_data(ttl=TTL, show_spinner=False)
def organization_options() -> tuple[list[str], list[tuple[str, str]]]:
    with runtime.reading() as session:
        return organizations.filter_options(session)


@st.cache_data(ttl=TTL, show_spinner=False)
def organization_page(
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


@st.cache_data(ttl=TTL, show_spinner=False)
def campaign_mail() -> campaigns.CampaignMail:
    """Campaign steps and other email: one read of the outbox's delivery counts for both."""
    with runtime.reading() as session:
        return campaigns.campaign_mail(session)


@st.cache_data(ttl=TTL, show_spinner=False)
def waves() -> list[migration.WaveProgress]:
    with runtime.reading() as session:
        return migration.waves(session)


@st.cache_data(ttl=TTL, show_spinner=False)
def migration_problems() -> tuple[list[tuple[str, int]], list[dict[str, Any]]]:
    with runtime.reading() as session:
        return migration.failure_reasons(session), migration.failures(session)


@st.cache_data(ttl=TTL, show_spinner=False)
def rollback_history() -> list[dict[str, Any]]:
    with runtime.reading() as session:
        return migration.rollback_history(session)


@st.cache_data(ttl=TTL, show_spinner=False)
def accounts() -> migration.Accounts:
    with runtime.reading() as session:
        return migration.accounts(session)


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


@st.cache_data(ttl=TTL, show_spinner=False)
def followup_page(
    segments: tuple[str, ...],
    levels: tuple[int, ...],
    countries: tuple[str, ...],
    account_manager: str | None,
) -> followup.FollowupPage:
    """The escalation summary and the first page of the call list, from one statement."""
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


@st.cache_data(ttl=TTL, show_spinner=False)
def account_managers() -> list[str]:
    with runtime.reading() as session:
        return followup.account_managers(session)


@st.cache_data(ttl=TTL, show_spinner=False)
def helpdesk_per_day() -> list[helpdesk.DailyContacts]:
    with runtime.reading() as session:
        return helpdesk.per_day(session, runtime.settings().tz)


@st.cache_data(ttl=TTL, show_spinner=False)
def helpdesk_backlog() -> helpdesk.Backlog:
    with runtime.reading() as session:
        return helpdesk.backlog(session, runtime.now())


@st.cache_data(ttl=TTL, show_spinner=False)
def helpdesk_times() -> helpdesk.ResponseTimes:
    with runtime.reading() as session:
        return helpdesk.response_times(session)


@st.cache_data(ttl=TTL, show_spinner=False)
def helpdesk_contacts(
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


def forget_helpdesk() -> None:
    """After an agent's change, the helpdesk figures are recomputed on the next look."""
    for cached in (helpdesk_per_day, helpdesk_backlog, helpdesk_times, helpdesk_contacts):
        cached.clear()
    organization_detail.clear()
