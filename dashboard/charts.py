"""The charts (Altair): built from small lists of aggregates, never from raw rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

import altair as alt

from dashboard import theme
from db.dashboard.common import STAGE_LABELS, Stage
from db.dashboard.overview import DailyRegistrations, Funnel

STAGES_IN_ORDER = (Stage.REGISTERED, Stage.VERIFIED, Stage.READY, Stage.MIGRATED)


def _data(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    # Inline values: the charts plot a few hundred aggregates, no DataFrame needed.
    return {"values": list(rows)}


def funnel(total: Funnel) -> alt.LayerChart:
    counts = {
        "Organizations": total.organizations,
        "Registered": total.registered,
        "Verified": total.verified,
        "Ready": total.ready,
        "Migrated": total.migrated,
    }
    colors = ["#9fb3c8", *(theme.STAGE_COLORS[s.value] for s in STAGES_IN_ORDER)]
    rows = [
        {
            "stage": name,
            "organizations": n,
            "share": n / total.organizations if total.organizations else 0.0,
            "order": i,
        }
        for i, (name, n) in enumerate(counts.items())
    ]
    base = alt.Chart(_data(rows)).encode(
        y=alt.Y("stage:N", sort=list(counts), title=None),
        x=alt.X("organizations:Q", title="Organizations", axis=alt.Axis(tickCount=6, format=",")),
    )
    bars = base.mark_bar(cornerRadiusEnd=3, height=26).encode(
        color=alt.Color("stage:N", scale=alt.Scale(domain=list(counts), range=colors), legend=None),
        tooltip=[
            alt.Tooltip("stage:N", title="Stage"),
            alt.Tooltip("organizations:Q", title="Organizations", format=","),
            alt.Tooltip("share:Q", title="Share", format=".1%"),
        ],
    )
    labels = base.mark_text(align="left", dx=6, color=theme.TEXT).encode(
        text=alt.Text("share:Q", format=".1%")
    )
    return cast(alt.LayerChart, (bars + labels).properties(height=220))


def trajectory(
    daily: Sequence[DailyRegistrations],
    *,
    opens_on: dt.date,
    closes_on: dt.date,
    goal: int,
    today: dt.date,
) -> alt.LayerChart:
    """Organizations registered so far, against the straight line that reaches `goal` at the
    close."""
    running = 0
    actual = []
    for d in daily:
        if d.day > today:
            break
        running += d.new_organizations
        actual.append({"day": d.day.isoformat(), "organizations": running, "series": "Registered"})
    needed = [
        {"day": opens_on.isoformat(), "organizations": 0, "series": "Needed to reach all"},
        {"day": closes_on.isoformat(), "organizations": goal, "series": "Needed to reach all"},
    ]
    scale = alt.Scale(
        domain=["Registered", "Needed to reach all"], range=[theme.PRIMARY, theme.GOAL]
    )
    x = alt.X("day:T", title=None, axis=alt.Axis(format="%-d %b"))
    y = alt.Y("organizations:Q", title="Organizations registered")
    color = alt.Color("series:N", scale=scale, title=None, legend=alt.Legend(orient="top"))
    tooltip = [
        alt.Tooltip("day:T", title="Day", format="%a %-d %b"),
        alt.Tooltip("organizations:Q", title="Organizations", format=","),
    ]
    line = (
        alt.Chart(_data(actual))
        .mark_area(line={"color": theme.PRIMARY}, color=theme.PRIMARY, opacity=0.15)
        .encode(x=x, y=y, tooltip=tooltip)
    )
    actual_line = alt.Chart(_data(actual)).mark_line().encode(x=x, y=y, color=color)
    goal_line = (
        alt.Chart(_data(needed))
        .mark_line(strokeDash=[6, 4])
        .encode(x=x, y=y, color=color, tooltip=tooltip)
    )
    return cast(alt.LayerChart, (line + actual_line + goal_line).properties(height=280))


def per_day(daily: Sequence[DailyRegistrations], needed_per_day: float | None) -> alt.LayerChart:
    rows = [{"day": d.day.isoformat(), "registrations": d.registrations} for d in daily]
    bars = (
        alt.Chart(_data(rows))
        .mark_bar(color=theme.PRIMARY, opacity=0.85)
        .encode(
            x=alt.X("yearmonthdate(day):T", title=None, axis=alt.Axis(format="%-d %b")),
            y=alt.Y(
                "registrations:Q",
                title="Registrations per day",
                axis=alt.Axis(tickMinStep=1, format=",d"),
            ),
            tooltip=[
                alt.Tooltip("day:T", title="Day", format="%a %-d %b %Y"),
                alt.Tooltip("registrations:Q", title="Registrations", format=","),
            ],
        )
    )
    if needed_per_day is None:
        return cast(alt.LayerChart, alt.layer(bars).properties(height=240))
    rule = (
        alt.Chart(_data([{"needed": needed_per_day}]))
        .mark_rule(color=theme.GOAL, strokeDash=[6, 4])
        .encode(
            y="needed:Q", tooltip=[alt.Tooltip("needed:Q", title="Needed per day", format=",.0f")]
        )
    )
    return cast(alt.LayerChart, (bars + rule).properties(height=240))


def stage_mix(groups: Sequence[Funnel], title: str) -> alt.Chart:
    """Each group's organizations split into exclusive stages, as shares of 100 %."""
    rows = []
    for g in groups:
        migrated = g.migrated
        ready = max(g.ready - migrated, 0)
        verified = max(g.verified - g.ready, 0)
        registered = max(g.registered - g.verified, 0)
        rest = max(g.organizations - g.registered - (migrated if g.registered < migrated else 0), 0)
        for stage, n in (
            (Stage.MIGRATED, migrated),
            (Stage.READY, ready),
            (Stage.VERIFIED, verified),
            (Stage.REGISTERED, registered),
            (Stage.NOT_REGISTERED, rest),
        ):
            rows.append(
                {
                    "group": g.label or g.key,
                    "stage": STAGE_LABELS[stage],
                    "order": list(Stage).index(stage),
                    "organizations": n,
                    "total": g.organizations,
                }
            )
    domain = [STAGE_LABELS[s] for s in reversed(list(Stage))]
    colors = [theme.STAGE_COLORS[s.value] for s in reversed(list(Stage))]
    return cast(
        alt.Chart,
        alt.Chart(_data(rows))
        .mark_bar(height=16)
        .encode(
            y=alt.Y(
                "group:N",
                sort=[g.label or g.key for g in groups],
                title=None,
                axis=alt.Axis(labelLimit=280),
            ),
            x=alt.X(
                "organizations:Q",
                stack="normalize",
                title=title,
                axis=alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75, 1]),
            ),
            color=alt.Color(
                "stage:N",
                scale=alt.Scale(domain=domain, range=colors),
                title=None,
                legend=alt.Legend(orient="top"),
            ),
            order=alt.Order("order:Q", sort="descending"),
            tooltip=[
                alt.Tooltip("group:N", title="Group"),
                alt.Tooltip("stage:N", title="Stage"),
                alt.Tooltip("organizations:Q", title="Organizations", format=","),
                alt.Tooltip("total:Q", title="Of", format=","),
            ],
        )
        .properties(height=max(120, 26 * len(groups) + 40)),
    )


def stacked_counts(
    rows: Sequence[dict[str, Any]],
    *,
    x: str,
    x_title: str | None,
    series: str,
    series_order: Sequence[str],
    colors: Sequence[str] | None = None,
    value: str = "count",
    value_title: str = "Count",
    temporal: bool = False,
    height: int = 260,
) -> alt.Chart:
    """Bars of `value` per `x`, stacked by `series` (steps by status, days by channel...)."""
    scale = (
        alt.Scale(domain=list(series_order), range=list(colors))
        if colors
        else alt.Scale(domain=list(series_order))
    )
    x_encoding = (
        alt.X(f"yearmonthdate({x}):T", title=x_title, axis=alt.Axis(format="%-d %b"))
        if temporal
        else alt.X(f"{x}:N", title=x_title, sort=None, axis=alt.Axis(labelAngle=0))
    )
    return cast(
        alt.Chart,
        alt.Chart(_data(rows))
        .mark_bar()
        .encode(
            x=x_encoding,
            y=alt.Y(
                f"{value}:Q",
                title=value_title,
                stack="zero",
                axis=alt.Axis(tickMinStep=1, format=",d"),
            ),
            color=alt.Color(
                f"{series}:N",
                scale=scale,
                title=None,
                # One series needs no legend.
                legend=alt.Legend(orient="top") if len(series_order) > 1 else None,
            ),
            order=alt.Order("series_rank:Q"),
            tooltip=[
                alt.Tooltip(f"{x}:{'T' if temporal else 'N'}", title=x_title or x),
                alt.Tooltip(f"{series}:N", title=series.capitalize()),
                alt.Tooltip(f"{value}:Q", title=value_title, format=","),
            ],
        )
        .transform_calculate(
            series_rank="indexof("
            + repr(list(series_order)).replace("'", '"')
            + f", datum.{series})"
        )
        .properties(height=height),
    )
