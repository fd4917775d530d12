"""Organizations: find any customer, and see everything about one of them."""

from __future__ import annotations

import math

import streamlit as st

from dashboard import data, runtime, widgets
from dashboard import format as fmt
from db.dashboard.common import STAGE_LABELS, Stage
from db.dashboard.organizations import PAGE_SIZE, AdministratorFilter, OrganizationDetail

ADMIN_LABELS = {
    AdministratorFilter.ANY: "Any",
    AdministratorFilter.VERIFIED: "Verified Administrator",
    AdministratorFilter.PENDING: "Administrator not verified yet",
    AdministratorFilter.NONE: "No Administrator registered",
}

widgets.header(
    "Organizations",
    "Search by name (English or local), login ID or email domain; open one for its full story.",
)


def filters() -> tuple[str, tuple[str, ...], tuple[str, ...], str | None, str]:
    countries, services = data.organization_options()
    service_names = dict(services)
    top = st.columns([3, 3, 2])
    search = top[0].text_input("Search", placeholder="Name, 日本語名, NK012345, example.co.jp")
    stages = top[1].multiselect(
        "Stage", list(Stage), format_func=lambda s: STAGE_LABELS[Stage(s)], placeholder="Any"
    )
    chosen_countries = top[2].multiselect("Country", countries, placeholder="Any")
    bottom = st.columns([3, 3, 2])
    service = bottom[0].selectbox(
        "Uses service",
        [None, *service_names],
        format_func=lambda code: "Any" if code is None else service_names[code],
    )
    administrator = bottom[1].selectbox(
        "Administrator", list(AdministratorFilter), format_func=lambda a: ADMIN_LABELS[a]
    )
    return (
        search,
        tuple(Stage(s).value for s in stages),
        tuple(chosen_countries),
        service,
        AdministratorFilter(administrator or AdministratorFilter.ANY).value,
    )


def listing() -> int | None:
    """The filtered table; returns the organization chosen for the drill-down."""
    search, stages, countries, service, administrator = filters()
    first = data.organization_page(search, stages, countries, service, administrator, 0)
    if not (search or stages or countries or service) and administrator == AdministratorFilter.ANY:
        widgets.figures_as_of(data.as_of("organization_page"))
    total_pages = max(1, math.ceil(first.total / PAGE_SIZE))
    page_number = 1
    if total_pages > 1:
        page_number = int(
            st.number_input(
                f"Page (of {total_pages:,})", min_value=1, max_value=total_pages, value=1, step=1
            )
        )
    result = (
        first
        if page_number == 1
        else data.organization_page(
            search, stages, countries, service, administrator, (page_number - 1) * PAGE_SIZE
        )
    )
    if not result.total:
        unfiltered = not (search.strip() or stages or countries or service) and (
            administrator == AdministratorFilter.ANY.value
        )
        widgets.nothing_yet(
            "There are no organizations in the database yet."
            if unfiltered
            else "No organization matches these filters."
        )
        return None
    start = result.offset + 1
    st.caption(
        f"{fmt.plural(result.total, 'organization')} "
        f"{'matches' if result.total == 1 else 'match'} · showing {start:,}–"
        f"{result.offset + len(result.rows):,}, by name"
    )
    widgets.grid(
        [
            {
                "Login ID": r["login_id"],
                "Name": r["name"],
                "Local name": r["name_local"],
                "Country": r["country"],
                "Locale": r["locale"],
                "Stage": STAGE_LABELS[Stage(r["stage"])],
                "Registrations": r["registrations"],
                "Account manager": r["account_manager"],
            }
            for r in result.rows
        ],
        height=360,
    )
    names = {r["id"]: f"{r['name']} ({r['login_id']})" for r in result.rows}
    wanted = st.query_params.get("org")
    linked = data.organization_by_login(wanted) if wanted else None
    options: list[int | None] = [None, *names]
    if linked is not None and linked not in names:
        options.append(linked)
        names[linked] = wanted or str(linked)
    chosen = st.selectbox(
        "Open an organization",
        options,
        index=options.index(linked) if linked in options else 0,
        format_func=lambda oid: "Choose one from the list above…" if oid is None else names[oid],
    )
    return chosen


def detail(found: OrganizationDetail) -> None:
    tz = runtime.settings().tz
    facts = found.facts
    st.subheader(facts["name"])
    if facts["name_local"]:
        st.markdown(f"**{facts['name_local']}**")
    stage = STAGE_LABELS[Stage(facts["stage"])]
    legacy = (
        "enabled"
        if facts["legacy_login_enabled"]
        else (f"disabled {fmt.instant(facts['legacy_login_disabled_at'], tz)}")
    )
    st.caption(
        f"{facts['login_id']} · {facts['country']} · {facts['locale']} · {stage} · "
        f"account manager {facts['account_manager'] or '–'} · phone {facts['phone'] or '–'} · "
        f"shared login {legacy} · domains {', '.join(found.domains) or '–'}"
    )
    tabs = st.tabs(
        [
            f"Registrations ({len(found.registrations)})",
            f"Messages ({found.message_count:,})",
            f"Helpdesk ({len(found.helpdesk)})",
            f"Migration ({len(found.migration)})",
            "Contacts and services",
            "Audit trail",
        ]
    )
    sections = (
        (tabs[0], found.registrations, "No registrations yet."),
        (tabs[1], found.messages, "No email has been written to this organization yet."),
        (tabs[2], found.helpdesk, "No helpdesk contacts matched to this organization."),
        (tabs[3], found.migration, "Not in any migration wave yet."),
        (tabs[5], found.audit, "Nothing recorded yet."),
    )
    for tab, rows, empty in sections:
        with tab:
            if rows:
                widgets.grid(rows)
            else:
                widgets.nothing_yet(empty)
    with tabs[1]:
        if found.message_count > len(found.messages):
            st.caption(f"The newest {len(found.messages)} of {found.message_count:,}.")
    with tabs[4]:
        left, right = st.columns(2)
        with left:
            st.caption("Addresses on file")
            if found.contacts:
                widgets.grid(found.contacts)
            else:
                widgets.nothing_yet("No contact addresses on file.")
        with right:
            st.caption("Services")
            if found.services:
                widgets.grid(found.services)
            else:
                widgets.nothing_yet("No service subscriptions.")


chosen_id = listing()
if chosen_id is not None:
    st.divider()
    found = data.organization_detail(chosen_id)
    if found is None:
        widgets.nothing_yet("That organization no longer exists.")
    else:
        detail(found)
