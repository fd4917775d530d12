"""Follow-up: organizations that are not ready, how far each one's follow-up has escalated,
and the call list for account managers."""

from __future__ import annotations

import streamlit as st

from dashboard import data, runtime, widgets
from dashboard import format as fmt
from db.dashboard.followup import CALL_LIST_PAGE, SEGMENT_ORDER, Segment, level_label
from domain.emails.catalog import FOLLOWUP_STEPS

LEVELS = tuple(range(len(FOLLOWUP_STEPS) + 1))

widgets.header(
    "Follow-up",
    "Organizations without a verified Administrator, by why they are not ready and the "
    "follow-up step each has reached; call those furthest along first.",
)
widgets.figures_as_of(data.as_of("followup"))


def summary() -> bool:
    counts = data.escalation()
    if not counts:
        if data.funnel().total.organizations:
            st.success("Every organization is ready or migrated: nobody to follow up.")
        else:
            widgets.nothing_yet("There are no organizations in the database yet.")
        return False
    calendar = runtime.calendar()
    if calendar.phase(runtime.now()) in ("before", "open"):
        st.caption(
            f"The follow-up starts after the close on {fmt.day(calendar.closes_on)}; until then "
            "this is who it would reach."
        )
    by_segment = {s: sum(c.organizations for c in counts if c.segment is s) for s in SEGMENT_ORDER}
    columns = st.columns(len(by_segment) + 1)
    columns[0].metric("Not ready", fmt.number(sum(by_segment.values())), border=True)
    for column, (segment, n) in zip(columns[1:], by_segment.items(), strict=True):
        column.metric(segment.label, fmt.number(n), border=True)
    table = []
    for segment in SEGMENT_ORDER:
        row: dict[str, object] = {"Why not ready": segment.label}
        for level in LEVELS:
            row[fmt.label(level_label(level, FOLLOWUP_STEPS))] = sum(
                c.organizations for c in counts if c.segment is segment and c.level == level
            )
        table.append(row)
    st.caption("Organizations by the follow-up step reached")
    widgets.grid(table)
    return True


def call_list() -> None:
    st.subheader("Call list")
    countries, _services = data.organization_options()
    managers = data.account_managers()
    top = st.columns(4)
    segments = top[0].multiselect(
        "Why not ready",
        list(SEGMENT_ORDER),
        format_func=lambda s: Segment(s).label,
        placeholder="Any",
    )
    levels = top[1].multiselect(
        "Step reached",
        list(LEVELS),
        format_func=lambda n: fmt.label(level_label(n, FOLLOWUP_STEPS)),
        placeholder="Any",
    )
    chosen_countries = top[2].multiselect("Country", countries, placeholder="Any")
    manager = top[3].selectbox(
        "Account manager", [None, *managers], format_func=lambda m: "Any" if m is None else m
    )
    key = (
        tuple(Segment(s).value for s in segments),
        tuple(int(n) for n in levels),
        tuple(chosen_countries),
        manager,
    )
    found = data.call_list(*key)
    if not found.total:
        widgets.nothing_yet("Nobody matches these filters.")
        return
    tz = runtime.settings().tz
    shown = len(found.rows)
    st.caption(
        fmt.plural(found.total, "organization")
        + (f" · the first {shown:,} shown; the CSV has all" if shown < found.total else "")
    )
    widgets.grid([_readable(r) for r in found.rows], height=420)

    def everything() -> bytes:
        # Built only when someone clicks: the full list can run to tens of thousands of rows.
        return fmt.csv_bytes((_readable(r) for r in data.whole_call_list(*key).rows), tz)

    st.download_button(
        "Download the call list (CSV)",
        data=everything,
        file_name=f"call-list-{runtime.calendar().local_date(runtime.now()).isoformat()}.csv",
        mime="text/csv",
        icon=":material/download:",
    )
    if found.total > CALL_LIST_PAGE:
        st.caption("Narrow the list with the filters, or download it whole.")


def _readable(row: dict[str, object]) -> dict[str, object]:
    level = int(str(row["level"]))
    emails = int(str(row["followup_emails"]))
    return {
        "Login ID": row["login_id"],
        "Organization": row["organization"],
        "Local name": row["name_local"],
        "Country": row["country"],
        "Locale": row["locale"],
        "Why not ready": Segment(str(row["segment"])).label,
        "Step reached": fmt.label(level_label(level, FOLLOWUP_STEPS, emails)),
        "Follow-up emails": emails,
        "Last follow-up": row["last_followup_at"],
        "Account manager": row["account_manager"],
        "Phone": row["phone"],
        "Contact": row["contact_name"],
        "Contact email": row["contact_email"],
    }


if summary():
    call_list()
