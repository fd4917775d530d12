"""Overview: how far the organizations have come, and whether the pace reaches everyone."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import charts, data, runtime, widgets
from dashboard import format as fmt
from db.dashboard.overview import Funnel

TOP_COUNTRIES = 15

widgets.header(
    "Overview",
    "Organizations from first registration to individual logins. An organization is ready when "
    "an Administrator has verified their address.",
)
widgets.figures_as_of(data.as_of("overview"))


@st.fragment(run_every=data.TTL)
def live_figures() -> None:
    calendar = runtime.calendar()
    now = runtime.now()
    today = calendar.local_date(now)
    total = data.funnel().total
    daily = {d.day: d for d in data.registrations_per_day()}
    close, switch = st.columns(2)
    close.metric(
        "Pre-registration closes",
        fmt.countdown(calendar.days_until_close(now), "closed"),
        help=f"Last day: {fmt.day(calendar.closes_on)} (until 23:59 {calendar.tz.key})",
        border=True,
    )
    switch.metric(
        "Login switch",
        fmt.countdown((calendar.switch_on - today).days, "switched"),
        help=f"{fmt.day(calendar.switch_on)}, 00:00 {calendar.tz.key}",
        border=True,
    )
    columns = st.columns(5)
    today_row = daily.get(today)
    figures = (
        ("Organizations", total.organizations, None),
        ("Registered", total.registered, today_row.new_organizations if today_row else 0),
        ("Verified", total.verified, None),
        ("Ready", total.ready, None),
        ("Migrated", total.migrated, None),
    )
    for column, (name, value, today_count) in zip(columns, figures, strict=True):
        share = value / total.organizations if total.organizations else None
        column.metric(
            name,
            fmt.number(value),
            delta=f"+{today_count:,} today" if today_count else None,
            delta_color="normal",
            help=None if name == "Organizations" else f"{fmt.percent(share)} of organizations",
            border=True,
        )


def pace(total: Funnel) -> None:
    calendar = runtime.calendar()
    now = runtime.now()
    today = calendar.local_date(now)
    daily = data.registrations_per_day()
    st.subheader("Pace")
    if not daily:
        widgets.nothing_yet(
            "No registrations yet. They appear here as organizations submit their people's "
            "addresses on the portal."
        )
        return
    remaining = total.organizations - total.registered
    days_left = calendar.days_until_close(now) + 1  # today counts while the window is open
    needed = remaining / days_left if calendar.is_open(now) and days_left > 0 else None
    recent = [d for d in daily if today - dt.timedelta(days=7) < d.day <= today]
    average = sum(d.new_organizations for d in recent) / 7
    a, b, c = st.columns(3)
    a.metric("Still to register", fmt.number(remaining), border=True)
    b.metric(
        "Needed per day to reach all",
        # Whole organizations when many are needed a day, a decimal when fewer than ten.
        fmt.number(round(needed, 1 if needed < 10 else None)) if needed is not None else "–",
        help="Organizations still to register, over the days left including today.",
        border=True,
    )
    c.metric(
        "Registering per day (last 7 days)",
        fmt.number(round(average, 1)),
        border=True,
    )
    left, right = st.columns(2)
    with left:
        st.caption("Organizations registered so far, against the pace that reaches all of them")
        widgets.chart(
            charts.trajectory(
                daily,
                opens_on=calendar.opens_on,
                closes_on=calendar.closes_on,
                goal=total.organizations,
                today=today,
            )
        )
    with right:
        st.caption("Registrations submitted per day (dashed: organizations needed per day)")
        widgets.chart(charts.per_day(daily, needed))


def breakdown_table(groups: tuple[Funnel, ...], name: str, *, services: bool = False) -> None:
    rows = []
    for g in groups:
        row: dict[str, object] = {name: g.label or g.key}
        if services:
            row["Code"] = g.key
            row["Pre-registration"] = g.requires_preregistration
        row |= {
            "Organizations": g.organizations,
            "Registered": g.registered,
            "Verified": g.verified,
            "Ready": g.ready,
            "Migrated": g.migrated,
            "Ready %": round(g.ready_share * 100, 1),
        }
        rows.append(row)
    widgets.grid(
        rows,
        columns={
            "Ready %": st.column_config.ProgressColumn(
                "Ready %", min_value=0, max_value=100, format="%.1f %%"
            ),
            "Pre-registration": st.column_config.CheckboxColumn("Needs pre-registration"),
        },
    )


def breakdowns() -> None:
    overview = data.funnel()
    st.subheader("Breakdowns")
    by_service, by_country, by_locale = st.tabs(["By service", "By country", "By locale"])
    with by_service:
        if overview.by_service:
            st.caption("Services on the pre-registration list first.")
            widgets.chart(charts.stage_mix(overview.by_service, "Subscribed organizations"))
            breakdown_table(overview.by_service, "Service", services=True)
        else:
            widgets.nothing_yet("No service subscriptions on file yet.")
    with by_country:
        top = overview.by_country[:TOP_COUNTRIES]
        widgets.chart(charts.stage_mix(top, "Organizations"))
        if len(overview.by_country) > TOP_COUNTRIES:
            st.caption(f"Chart: the {TOP_COUNTRIES} largest countries; the table has all.")
        breakdown_table(overview.by_country, "Country")
    with by_locale:
        widgets.chart(charts.stage_mix(overview.by_locale, "Organizations"))
        breakdown_table(overview.by_locale, "Locale")


live_figures()
total = data.funnel().total
if total.organizations == 0:
    widgets.nothing_yet(
        "There are no organizations in the database yet. Import the customer base (or run "
        "`switchover seed` for demo data) and this page fills in."
    )
else:
    st.subheader("Funnel")
    widgets.chart(charts.funnel(total))
    pace(total)
    breakdowns()
