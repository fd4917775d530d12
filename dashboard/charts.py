"""The charts: Vega-Lite specs built as plain dicts from small lists of aggregates, never from
raw rows.

They are the specs Altair would write for the same charts (with the data inline), built
without Altair's objects: constructing and serializing those cost more than a page's queries
once its figures are cached (about 60 ms for the Overview's six charts). Every spec a page
draws is checked against the Vega-Lite schema in tests/dashboard/test_charts.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from dashboard import theme
from db.dashboard.common import STAGE_LABELS, Stage
from db.dashboard.overview import DailyRegistrations, Funnel

Spec = dict[str, Any]

STAGES_IN_ORDER = (Stage.REGISTERED, Stage.VERIFIED, Stage.READY, Stage.MIGRATED)
SCHEMA = "https://vega.github.io/schema/vega-lite/v6.4.1.json"


def _top(spec: Spec) -> Spec:
    """A whole chart: the dashboard's look, the schema it is written against, and its data as
    named datasets (as Altair writes them: Streamlit sends each dataset once, as a table)."""
    datasets: dict[str, list[dict[str, Any]]] = {}
    names: dict[int, str] = {}

    def named(part: Spec) -> Spec:
        if "data" not in part:
            return part
        values = part["data"]["values"]
        name = names.setdefault(id(values), f"data-{len(names)}")
        datasets[name] = values
        return {**part, "data": {"name": name}}

    whole = named(spec)
    if "layer" in whole:
        whole["layer"] = [named(layer) for layer in whole["layer"]]
    return {"config": theme.vega_lite_config(), **whole, "$schema": SCHEMA, "datasets": datasets}


def _data(rows: Sequence[dict[str, Any]]) -> Spec:
    # The charts plot a few hundred aggregates, no DataFrame needed; `_top` names them.
    return {"values": list(rows)}


def _field(name: str, kind: str, **more: Any) -> Spec:
    return {"field": name, "type": kind, **more}


def _tip(name: str, kind: str, title: str, fmt: str | None = None) -> Spec:
    return _field(name, kind, title=title, **({"format": fmt} if fmt else {}))


def funnel(total: Funnel) -> Spec:
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
    position = {
        "x": _field(
            "organizations",
            "quantitative",
            axis={"format": ",", "tickCount": 6},
            title="Organizations",
        ),
        "y": _field("stage", "nominal", sort=list(counts), title=None),
    }
    bars = {
        "mark": {"type": "bar", "cornerRadiusEnd": 3, "height": 26},
        "encoding": {
            "color": _field(
                "stage", "nominal", legend=None, scale={"domain": list(counts), "range": colors}
            ),
            "tooltip": [
                _tip("stage", "nominal", "Stage"),
                _tip("organizations", "quantitative", "Organizations", ","),
                _tip("share", "quantitative", "Share", ".1%"),
            ],
            **position,
        },
    }
    labels = {
        "mark": {"type": "text", "align": "left", "color": theme.TEXT, "dx": 6},
        "encoding": {"text": _field("share", "quantitative", format=".1%"), **position},
    }
    return _top({"layer": [bars, labels], "data": _data(rows), "height": 220})


def trajectory(
    daily: Sequence[DailyRegistrations],
    *,
    opens_on: dt.date,
    closes_on: dt.date,
    goal: int,
    today: dt.date,
) -> Spec:
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
    color = _field(
        "series",
        "nominal",
        legend={"orient": "top"},
        scale={
            "domain": ["Registered", "Needed to reach all"],
            "range": [theme.PRIMARY, theme.GOAL],
        },
        title=None,
    )
    x = _field("day", "temporal", axis={"format": "%-d %b"}, title=None)
    y = _field("organizations", "quantitative", title="Organizations registered")
    tooltip = [
        _tip("day", "temporal", "Day", "%a %-d %b"),
        _tip("organizations", "quantitative", "Organizations", ","),
    ]
    registered = _data(actual)
    area = {
        "data": registered,
        "mark": {
            "type": "area",
            "color": theme.PRIMARY,
            "line": {"color": theme.PRIMARY},
            "opacity": 0.15,
        },
        "encoding": {"tooltip": tooltip, "x": x, "y": y},
    }
    actual_line = {
        "data": registered,
        "mark": {"type": "line"},
        "encoding": {"color": color, "x": x, "y": y},
    }
    goal_line = {
        "data": _data(needed),
        "mark": {"type": "line", "strokeDash": [6, 4]},
        "encoding": {"color": color, "tooltip": tooltip, "x": x, "y": y},
    }
    return _top({"layer": [area, actual_line, goal_line], "height": 280})


def per_day(daily: Sequence[DailyRegistrations], needed_per_day: float | None) -> Spec:
    rows = [{"day": d.day.isoformat(), "registrations": d.registrations} for d in daily]
    bars = {
        "data": _data(rows),
        "mark": {"type": "bar", "color": theme.PRIMARY, "opacity": 0.85},
        "encoding": {
            "tooltip": [
                _tip("day", "temporal", "Day", "%a %-d %b %Y"),
                _tip("registrations", "quantitative", "Registrations", ","),
            ],
            "x": _field(
                "day", "temporal", axis={"format": "%-d %b"}, timeUnit="yearmonthdate", title=None
            ),
            "y": _field(
                "registrations",
                "quantitative",
                axis={"format": ",d", "tickMinStep": 1},
                title="Registrations per day",
            ),
        },
    }
    if needed_per_day is None:
        # One layer: its data belongs to the whole chart (as Altair writes it).
        return _top(
            {
                "layer": [{k: v for k, v in bars.items() if k != "data"}],
                "data": bars["data"],
                "height": 240,
            }
        )
    rule = {
        "data": _data([{"needed": needed_per_day}]),
        "mark": {"type": "rule", "color": theme.GOAL, "strokeDash": [6, 4]},
        "encoding": {
            "tooltip": [_tip("needed", "quantitative", "Needed per day", ",.0f")],
            "y": _field("needed", "quantitative"),
        },
    }
    return _top({"layer": [bars, rule], "height": 240})


def stage_mix(groups: Sequence[Funnel], title: str) -> Spec:
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
    return _top(
        {
            "data": _data(rows),
            "mark": {"type": "bar", "height": 16},
            "encoding": {
                "color": _field(
                    "stage",
                    "nominal",
                    legend={"orient": "top"},
                    scale={"domain": domain, "range": colors},
                    title=None,
                ),
                "order": _field("order", "quantitative", sort="descending"),
                "tooltip": [
                    _tip("group", "nominal", "Group"),
                    _tip("stage", "nominal", "Stage"),
                    _tip("organizations", "quantitative", "Organizations", ","),
                    _tip("total", "quantitative", "Of", ","),
                ],
                "x": _field(
                    "organizations",
                    "quantitative",
                    axis={"format": "%", "values": [0, 0.25, 0.5, 0.75, 1]},
                    stack="normalize",
                    title=title,
                ),
                "y": _field(
                    "group",
                    "nominal",
                    axis={"labelLimit": 280},
                    sort=[g.label or g.key for g in groups],
                    title=None,
                ),
            },
            "height": max(120, 26 * len(groups) + 40),
        }
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
) -> Spec:
    """Bars of `value` per `x`, stacked by `series` (steps by status, days by channel...)."""
    scale: Spec = {"domain": list(series_order)}
    if colors:
        scale["range"] = list(colors)
    x_encoding = (
        _field(x, "temporal", axis={"format": "%-d %b"}, timeUnit="yearmonthdate", title=x_title)
        if temporal
        else _field(x, "nominal", axis={"labelAngle": 0}, sort=None, title=x_title)
    )
    return _top(
        {
            "data": _data(rows),
            "mark": {"type": "bar"},
            "encoding": {
                "color": _field(
                    series,
                    "nominal",
                    # One series needs no legend.
                    legend={"orient": "top"} if len(series_order) > 1 else None,
                    scale=scale,
                    title=None,
                ),
                "order": _field("series_rank", "quantitative"),
                "tooltip": [
                    _tip(x, "temporal" if temporal else "nominal", x_title or x),
                    _tip(series, "nominal", series.capitalize()),
                    _tip(value, "quantitative", value_title, ","),
                ],
                "x": x_encoding,
                "y": _field(
                    value,
                    "quantitative",
                    axis={"format": ",d", "tickMinStep": 1},
                    stack="zero",
                    title=value_title,
                ),
            },
            "height": height,
            "transform": [
                {
                    "calculate": "indexof("
                    + repr(list(series_order)).replace("'", '"')
                    + f", datum.{series})",
                    "as": "series_rank",
                }
            ],
        }
    )
