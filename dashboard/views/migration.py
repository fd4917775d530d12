"""Migration: the waves and their progress, failures and why, invariant checks, rollbacks."""

from __future__ import annotations

import streamlit as st

from dashboard import data, runtime, widgets
from dashboard import format as fmt
from db.dashboard.migration import WaveProgress, invariants
from db.enums import MigrationItemStatus

widgets.header(
    "Migration",
    "Waves move organizations from the shared login to individual accounts, the canary first.",
)
widgets.figures_as_of(data.as_of("waves"))


@st.fragment(run_every=data.TTL)
def wave_progress() -> None:
    waves = data.waves()
    st.subheader("Waves")
    if not waves:
        calendar = runtime.calendar()
        widgets.nothing_yet(
            "No migration waves yet. The login migration plans them (canary first) before the "
            f"switch on {fmt.day(calendar.switch_on)}."
        )
        return
    totals = {s.value: sum(w.counts.get(s.value, 0) for w in waves) for s in MigrationItemStatus}
    columns = st.columns(len(totals))
    for column, (status, n) in zip(columns, totals.items(), strict=True):
        column.metric(fmt.label(status), fmt.number(n), border=True)
    for wave in waves:
        one_wave(wave)


def one_wave(wave: WaveProgress) -> None:
    counts = ", ".join(
        f"{fmt.number(n)} {fmt.label(status).lower()}" for status, n in wave.counts.items() if n
    )
    title = f"**{wave.name}** · {fmt.label(wave.status)} · {counts or 'no organizations'}"
    st.progress(min(max(wave.progress, 0.0), 1.0), text=title)
    tz = runtime.settings().tz
    times = [
        f"started {fmt.instant(wave.started_at, tz)}" if wave.started_at else None,
        f"finished {fmt.instant(wave.finished_at, tz)}" if wave.finished_at else None,
        f"rolled back {fmt.instant(wave.rolled_back_at, tz)}" if wave.rolled_back_at else None,
    ]
    line = " · ".join(t for t in times if t)
    if line:
        st.caption(line)
    if wave.halt_reason:
        st.warning(f"Halted: {wave.halt_reason}")


def problems() -> None:
    reasons, failed = data.migration_problems()
    st.subheader("Failures")
    if not reasons:
        widgets.nothing_yet("No organization has failed to migrate.")
        return
    left, right = st.columns([2, 3])
    with left:
        widgets.grid([{"Reason": r, "Organizations": n} for r, n in reasons])
    with right:
        widgets.grid(failed, height=300)


def checks() -> None:
    results = invariants(data.waves())
    st.subheader("Invariant checks")
    if not results:
        widgets.nothing_yet(
            "No invariant results yet: each wave records them in its report when it finishes."
        )
        return
    failed = [r for r in results if not r.passed]
    if failed:
        st.error(f"{len(failed)} of {len(results)} checks failed.")
    else:
        st.success(f"All {len(results)} checks passed.")
    widgets.grid(
        [
            {
                "Wave": r.wave,
                "Check": r.check,
                "Result": "passed" if r.passed else "FAILED",
                "Detail": r.detail,
            }
            for r in results
        ]
    )


def rollbacks() -> None:
    waves = [w for w in data.waves() if w.rolled_back_at is not None]
    history = data.rollback_history()
    st.subheader("Rollbacks")
    if not waves and not history:
        widgets.nothing_yet("Nothing has been rolled back.")
        return
    tz = runtime.settings().tz
    if waves:
        widgets.grid(
            [
                {
                    "Wave": w.name,
                    "Rolled back": fmt.instant(w.rolled_back_at, tz),
                    "Organizations rolled back": w.counts.get(
                        MigrationItemStatus.ROLLED_BACK.value, 0
                    ),
                    "Reason": w.halt_reason,
                }
                for w in waves
            ]
        )
    if history:
        widgets.grid(history)


def accounts() -> None:
    found = data.accounts()
    st.subheader("Individual accounts")
    if not sum(found.persons.values()):
        widgets.nothing_yet("No individual accounts exist yet; the migration creates them.")
        return
    columns = st.columns(len(found.persons) + 1)
    for column, (status, n) in zip(columns, found.persons.items(), strict=False):
        column.metric(f"Persons {fmt.label(status).lower()}", fmt.number(n), border=True)
    columns[-1].metric("Memberships", fmt.number(sum(found.memberships.values())), border=True)


wave_progress()
problems()
checks()
rollbacks()
accounts()
