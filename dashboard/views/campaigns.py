"""Campaigns: what each step sent, how it was delivered, and who registered after it."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, runtime, theme, widgets
from dashboard import format as fmt
from db.dashboard.campaigns import FOLLOW_DAYS, Delivery

STATUSES = ("sent", "queued", "failed", "bounced")

widgets.header(
    "Campaigns",
    "Each reminder and follow-up step: its email by delivery status, and the registrations that "
    f"followed within {FOLLOW_DAYS} days from the organizations it wrote to.",
)
widgets.figures_as_of(data.as_of("campaign_mail"))


def delivery_chart(deliveries: list[Delivery]) -> None:
    rows = [
        {"step": d.key, "status": status, "count": getattr(d, status)}
        for d in deliveries
        for status in STATUSES
    ]
    widgets.chart(
        charts.stacked_counts(
            rows,
            x="step",
            x_title=None,
            series="status",
            series_order=STATUSES,
            colors=[theme.DELIVERY_COLORS[s] for s in STATUSES],
            value_title="Messages",
        )
    )


def steps() -> None:
    outcomes = data.campaign_mail().steps
    st.subheader("Campaign steps")
    if not outcomes:
        widgets.nothing_yet(
            "No campaign step has gone out yet. The reminder campaign sends its steps (T-60 … "
            "T-1) in the pre-registration window, the follow-up after the close."
        )
        return
    tz = runtime.settings().tz
    delivery_chart([o.delivery for o in outcomes])
    widgets.grid(
        [
            {
                "Step": o.delivery.key,
                "Template": o.delivery.template,
                "First queued": fmt.instant(o.delivery.first_queued_at, tz),
                "Organizations": o.delivery.organizations,
                "Queued": o.delivery.queued,
                "Sent": o.delivery.sent,
                "Failed": o.delivery.failed,
                "Bounced": o.delivery.bounced,
                "Problems %": round(o.delivery.problem_share * 100, 1),
                f"Registrations ≤ {FOLLOW_DAYS} d": o.registrations_after,
                f"Organizations registering ≤ {FOLLOW_DAYS} d": o.organizations_after,
                "Response %": round(o.response_share * 100, 1),
            }
            for o in outcomes
        ],
        columns={
            "Problems %": st.column_config.NumberColumn(format="%.1f %%"),
            "Response %": st.column_config.ProgressColumn(
                min_value=0, max_value=100, format="%.1f %%"
            ),
        },
    )
    st.caption(
        f"Registrations are counted from the step's first email for {FOLLOW_DAYS} days, among "
        "the organizations the step wrote to; steps less than a week apart share some."
    )


def transactional() -> None:
    deliveries = data.campaign_mail().other
    st.subheader("Other email")
    if not deliveries:
        widgets.nothing_yet("No verification, confirmation or helpdesk email has been queued yet.")
        return
    widgets.grid(
        [
            {
                "Template": d.template,
                "Queued": d.queued,
                "Sent": d.sent,
                "Failed": d.failed,
                "Bounced": d.bounced,
                "Problems %": round(d.problem_share * 100, 1),
            }
            for d in deliveries
        ],
        columns={"Problems %": st.column_config.NumberColumn(format="%.1f %%")},
    )


steps()
transactional()
