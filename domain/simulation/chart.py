"""The registration curve against the campaign steps, as a PNG (Altair, rendered by vl-convert).

Bars: registrations submitted per day. Line: organizations ready (a verified Administrator), as a
share of all, on the right axis. Rules: the campaign steps, the close and the switch, labelled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import altair as alt
import vl_convert

from domain.simulation.accounting import Day

WIDTH, HEIGHT = 900, 360
LABEL_ROWS = 3


def registration_chart(
    days: Sequence[Day], organizations: int, markers: Sequence[tuple[dt.date, str]]
) -> alt.LayerChart:
    # Inline values: a few hundred points, no DataFrame needed.
    frame = {
        "values": [
            {
                "day": d.date.isoformat(),
                "submitted": d.submitted,
                "verified": d.verified,
                "ready": d.ready_organizations / organizations if organizations else 0,
            }
            for d in days
        ]
    }
    steps = [{"day": day.isoformat(), "label": label} for day, label in markers]
    x = alt.X("day:T", title=None, axis=alt.Axis(format="%d %b", labelAngle=0))
    bars = (
        alt.Chart(frame)
        .mark_bar(color="#4c78a8", opacity=0.8)
        .encode(x=x, y=alt.Y("submitted:Q", title="registrations submitted per day"))
    )
    ready = (
        alt.Chart(frame)
        .mark_line(color="#e45756", strokeWidth=2.5)
        .encode(
            x=x,
            y=alt.Y(
                "ready:Q",
                title="organizations ready",
                axis=alt.Axis(format="%", titleColor="#e45756"),
                scale=alt.Scale(domain=[0, 1]),
            ),
        )
    )
    rules = (
        alt.Chart({"values": steps}).mark_rule(color="#888", strokeDash=[4, 3]).encode(x="day:T")
    )
    # Steps a few days apart (T-3, T-1, the close) would print over each other: labels take
    # turns on LABEL_ROWS lines.
    labels = [
        alt.Chart({"values": steps[row::LABEL_ROWS]})
        .mark_text(align="left", baseline="top", dx=3, fontSize=10, color="#555")
        .encode(x="day:T", y=alt.value(2 + 13 * row), text="label:N")
        for row in range(LABEL_ROWS)
    ]
    chart: alt.LayerChart = (
        alt.layer(bars, rules, *labels, ready)
        .resolve_scale(y="independent")
        .properties(
            width=WIDTH,
            height=HEIGHT,
            title="Registrations per day and organizations ready, against the campaign steps",
        )
    )
    return chart


def to_png(chart: alt.LayerChart, scale: float = 2.0) -> bytes:
    png: bytes = vl_convert.vegalite_to_png(chart.to_json(), scale=scale)
    return png
