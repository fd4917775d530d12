"""Helpdesk: what comes in, what is waiting and for how long, how fast it is answered; and the
list agents work from, where they change a contact's status or category and add notes."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import charts, data, runtime, theme, widgets
from dashboard import format as fmt
from dashboard.auth import current_viewer
from db.dashboard.helpdesk import AGE_BUCKETS, OPEN_STATUSES
from db.enums import HelpdeskCategory, HelpdeskChannel, HelpdeskStatus
from domain.clock import Calendar
from domain.helpdesk import reference_of
from domain.helpdesk_updates import HelpdeskUpdateError, update_contact

FLASH_KEY = "helpdesk_flash"

widgets.header(
    "Helpdesk",
    "Requests from the contact form, the support mailbox and the phone, matched to "
    "organizations where the sender's address tells.",
)
widgets.figures_as_of(data.as_of("helpdesk_backlog"))


def ref(contact_id: int, received_at: dt.datetime, calendar: Calendar | None = None) -> str:
    """The reference format the acknowledgement email uses."""
    return reference_of(contact_id, received_at, calendar or runtime.calendar())


@st.fragment(run_every=data.TTL)
def live_figures() -> None:
    backlog = data.helpdesk_backlog()
    times = data.helpdesk_times()
    now = runtime.now()
    waiting = dict(backlog.by_status)
    first, second = st.columns(4), st.columns(4)
    first[0].metric("Open backlog", fmt.number(backlog.total), border=True)
    oldest = (
        fmt.duration((now - backlog.oldest_received_at).total_seconds())
        if backlog.oldest_received_at
        else "–"
    )
    first[1].metric("Oldest open", oldest, border=True)
    first[2].metric(
        "New · open · waiting",
        " · ".join(fmt.number(waiting.get(s.value, 0)) for s in OPEN_STATUSES),
        help="Waiting: on the customer.",
        border=True,
    )
    first[3].metric("Answered so far", fmt.number(times.first_response.count), border=True)
    answered = f"Over {times.first_response.count:,} contacts answered so far."
    resolved = f"Over {times.resolution.count:,} contacts resolved so far."
    for column, name, seconds, note in (
        (second[0], "First response, median", times.first_response.median_seconds, answered),
        (second[1], "First response, p90", times.first_response.p90_seconds, answered),
        (second[2], "Resolution, median", times.resolution.median_seconds, resolved),
        (second[3], "Resolution, p90", times.resolution.p90_seconds, resolved),
    ):
        column.metric(name, fmt.duration(seconds), help=note, border=True)


def charts_section() -> None:
    daily = data.helpdesk_per_day()
    backlog = data.helpdesk_backlog()
    left, right = st.columns([3, 2])
    with left:
        st.subheader("Contacts per day")
        by_channel, by_category = st.tabs(["By channel", "By category"])
        for tab, field, counts, order in (
            (by_channel, "channel", daily.by_channel, [c.value for c in HelpdeskChannel]),
            (by_category, "category", daily.by_category, [c.value for c in HelpdeskCategory]),
        ):
            rows = [
                {"day": d.day.isoformat(), field: fmt.label(d.value), "count": d.contacts}
                for d in counts
            ]
            with tab:
                widgets.chart(
                    charts.stacked_counts(
                        rows,
                        x="day",
                        x_title=None,
                        series=field,
                        series_order=[fmt.label(v) for v in order],
                        colors=theme.SERIES[: len(order)],
                        value_title="Contacts",
                        temporal=True,
                    )
                )
    with right:
        st.subheader("Open backlog by age")
        rows = [{"age": label, "status": "open", "count": n} for label, n in backlog.by_age]
        widgets.chart(
            charts.stacked_counts(
                rows,
                x="age",
                x_title=None,
                series="status",
                series_order=["open"],
                colors=[theme.PRIMARY],
                value_title="Contacts",
            )
        )
        st.caption(f"Age since received; buckets {', '.join(b for b, _ in AGE_BUCKETS)}.")


def contact_list() -> int | None:
    st.subheader("Contacts")
    top = st.columns([2, 2, 2, 3])
    statuses = top[0].multiselect(
        "Status",
        [s.value for s in HelpdeskStatus],
        default=[s.value for s in OPEN_STATUSES],
        format_func=fmt.label,
        placeholder="Any",
    )
    categories = top[1].multiselect(
        "Category", [c.value for c in HelpdeskCategory], format_func=fmt.label, placeholder="Any"
    )
    channels = top[2].multiselect(
        "Channel", [c.value for c in HelpdeskChannel], format_func=fmt.label, placeholder="Any"
    )
    search = top[3].text_input("Search", placeholder="Sender, subject, organization, NK012345")
    rows, total = data.helpdesk_contacts(
        tuple(statuses), tuple(categories), tuple(channels), search
    )
    if not total:
        widgets.nothing_yet(
            "No helpdesk contacts match."
            if (statuses or categories or channels or search)
            else "No helpdesk contacts yet."
        )
        return None
    st.caption(
        f"{fmt.plural(total, 'contact')} · newest first"
        + (f" · the newest {len(rows):,} shown" if len(rows) < total else "")
    )
    calendar = runtime.calendar()
    refs = {r["id"]: ref(r["id"], r["received_at"], calendar) for r in rows}
    widgets.grid(
        [
            {
                "Reference": refs[r["id"]],
                "Received": r["received_at"],
                "Status": fmt.label(r["status"]),
                "Category": fmt.label(r["category"]),
                "Channel": fmt.label(r["channel"]),
                "From": r["sender_name"] or r["sender_email"],
                "Organization": r["organization"],
                "Subject": r["subject"],
                "Agent": r["assignee"],
            }
            for r in rows
        ],
        height=320,
    )
    labels = {
        r["id"]: f"{refs[r['id']]} · {r['subject'] or fmt.label(r['category'])}" for r in rows
    }
    chosen: int | None = st.selectbox(
        "Work on a contact",
        [None, *labels],
        format_func=lambda cid: "Choose one from the list above…" if cid is None else labels[cid],
    )
    return chosen


def work_on(contact_id: int) -> None:
    contact = data.helpdesk_contact(contact_id)
    if contact is None:
        widgets.nothing_yet("That contact no longer exists.")
        return
    tz = runtime.settings().tz
    st.markdown(f"#### {ref(contact['id'], contact['received_at'])} · {contact['subject'] or ''}")
    st.caption(
        f"From {contact['sender_name'] or '–'} <{contact['sender_email'] or '–'}> · "
        f"organization given: {contact['organization_name_given'] or '–'} · received "
        f"{fmt.instant(contact['received_at'], tz, zone=True)} by {contact['channel']}"
    )
    left, right = st.columns([3, 2])
    with left:
        st.text(contact["body"])
        if contact["notes"]:
            st.caption("Notes")
            st.text(contact["notes"])
    # The status this contact showed on the previous run is what the agent decided on; the run
    # that handles the click reads the row afresh, so it cannot stand for what was seen.
    seen_key = f"helpdesk_seen_{contact_id}"
    seen = st.session_state.get(seen_key, contact["status"])
    st.session_state[seen_key] = contact["status"]
    keys = {name: f"helpdesk_{name}_{contact_id}" for name in ("status", "category", "note")}
    with right, st.form(f"work_{contact_id}"):
        statuses = [s.value for s in HelpdeskStatus]
        categories = [c.value for c in HelpdeskCategory]
        status = st.selectbox(
            "Status",
            statuses,
            index=statuses.index(contact["status"]),
            format_func=fmt.label,
            key=keys["status"],
        )
        category = st.selectbox(
            "Category",
            categories,
            index=categories.index(contact["category"]),
            format_func=fmt.label,
            key=keys["category"],
        )
        note = st.text_area(
            "Add a note",
            max_chars=5000,
            placeholder="What was done or agreed",
            key=keys["note"],
        )
        submitted = st.form_submit_button("Save", type="primary")
        if submitted and save(contact_id, seen, status, category, note):
            for key in (*keys.values(), seen_key):
                st.session_state.pop(key, None)
            st.rerun()


def save(contact_id: int, seen_status: str, status: str, category: str, note: str) -> bool:
    """Apply the agent's change; False (with the reason shown) when it could not be made."""
    viewer = current_viewer()
    assert viewer is not None  # the app signs viewers in before any page runs
    app = runtime.app()
    try:
        with app.unit_of_work() as session:
            result = update_contact(
                session,
                app.clock,
                app.calendar,
                contact_id=contact_id,
                actor=viewer.actor,
                status=status,
                category=category,
                note=note,
                expected_status=seen_status,
            )
            changed = result.changed
    except HelpdeskUpdateError as exc:
        st.error(str(exc))
        return False
    data.forget_helpdesk()
    st.session_state[FLASH_KEY] = (
        f"Saved: {', '.join(changed)}." if changed else "Nothing to change."
    )
    return True


flash = st.session_state.pop(FLASH_KEY, None)
if flash:
    st.success(flash)
if not data.helpdesk_per_day().total:
    widgets.nothing_yet(
        "No helpdesk contacts yet. Requests from the portal's contact form and the support "
        "mailbox appear here."
    )
else:
    live_figures()
    charts_section()
    chosen = contact_list()
    if chosen is not None:
        work_on(chosen)
