"""The reports of the login migration and of a rollback, as markdown for the Prefect UI.

Plain functions of the results (no Prefect here). On the switch night operators read these to
decide whether to let the waves go on, so each says: what the run was, the numbers per wave, the
invariant checks, what failed and why, what was done to the organizations that registered
nobody, and what to do next.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from domain.clock import Calendar
from domain.migration.batch import BatchResult
from domain.migration.invariants import Check
from domain.migration.plan import Plan
from domain.migration.preflight import Preflight
from domain.migration.rollback import RollbackResult
from domain.migration.unregistered import UnregisteredResult
from domain.settings import Settings
from flows.reports import DRY_RUN_BANNER, table, when


@dataclass
class WaveOutcome:
    name: str
    status: str = "planned"
    result: BatchResult = field(default_factory=BatchResult)
    counts: dict[str, int] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    halt_reason: str | None = None
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.result.items / self.seconds if self.seconds else 0.0


def policy_line(settings: Settings) -> str:
    days = settings.unregistered_legacy_grace_days
    if days:
        return (
            f"keep their shared log-in for a grace period of {days} days after the switch "
            "(it then stops working by itself)"
        )
    return "lose their shared log-in at the switch"


def preflight_markdown(
    pre: Preflight,
    plan: Plan,
    settings: Settings,
    calendar: Calendar,
    now: dt.datetime,
    *,
    dry_run: bool,
) -> str:
    out = [f"## Login migration — preflight — {when(calendar, now)}\n"]
    if dry_run:
        out.append(DRY_RUN_BANNER)
    if plan.reused:
        out.append(
            "The waves were planned by an earlier run and are reused as they are (the planning "
            "parameters of this run are not applied to them)."
            + (f" New: {', '.join(w.name for w in plan.created)}." if plan.created else "")
            + "\n"
        )
    elif plan.created:
        out.append(f"{len(plan.created)} waves planned, the canary first.\n")
    for note in plan.notes:
        out.append(f"- {note}\n")
    if plan.canary_not_ready:
        out.append(
            "**Canary login IDs without a verified registration** (left out): "
            + ", ".join(plan.canary_not_ready)
            + "\n"
        )
    rows: list[tuple[object, ...]] = [
        (w.name, w.status, w.organizations, w.registrations, w.with_administrator)
        for w in pre.waves
    ]
    rows.append(("**total**", "", pre.organizations, pre.registrations, ""))
    out.append(
        "### Waves to run\n"
        + table(
            (
                "wave",
                "status",
                "organizations to do",
                "verified registrations",
                "with a verified Administrator",
            ),
            rows,
        )
    )
    out.append(
        f"\n### To look at\n- **{pre.without_administrator}** organizations have no verified "
        "Administrator: they are migrated, but nobody there can invite users until the helpdesk "
        "helps.\n"
        f"- **{pre.shared_addresses}** addresses are registered by several organizations: one "
        "account each, with a membership per organization.\n"
        f"- **{pre.bounced}** registrations in these waves have an address that bounced.\n"
        f"- **{pre.unregistered}** organizations registered nobody: they {policy_line(settings)} "
        "and stay in the unregistered follow-up.\n"
    )
    if pre.without_administrator_sample:
        out.append(
            "\n#### Without a verified Administrator (first "
            f"{len(pre.without_administrator_sample)})\n"
            + table(
                ("login ID", "organization", "country"),
                [
                    (r["login_id"], r["organization"], r["country"])
                    for r in pre.without_administrator_sample
                ],
            )
        )
    if pre.shared_sample:
        out.append(
            f"\n#### Addresses in several organizations (first {len(pre.shared_sample)})\n"
            + table(
                ("address", "organizations"),
                [(r["email"], r["organizations"]) for r in pre.shared_sample],
            )
        )
    if pre.bounced_sample:
        out.append(
            f"\n#### Bounced addresses (first {len(pre.bounced_sample)})\n"
            + table(
                ("login ID", "address", "problem"),
                [(r["login_id"], r["email"], r["problem"]) for r in pre.bounced_sample],
            )
        )
    if dry_run:
        out.append(
            "\nNothing was changed. Run again without dry_run to freeze pre-registration and "
            "migrate.\n"
        )
    return "\n".join(out)


def run_markdown(
    outcomes: Sequence[WaveOutcome],
    calendar: Calendar,
    now: dt.datetime,
    *,
    halted: str | None,
    closed: UnregisteredResult | None,
    renders: tuple[int, int],
) -> str:
    out = [f"## Login migration — {when(calendar, now)}\n"]
    if halted:
        out.append(f"> **Halted**: {halted}\n>\n> Fix the cause, then run again: it resumes.\n")
    rows = [
        (
            o.name,
            o.status,
            o.result.items,
            o.result.migrated,
            o.result.skipped,
            o.result.failed,
            o.result.persons_created,
            o.result.memberships,
            o.result.activation_emails,
            f"{o.seconds:.1f}",
            f"{o.rate:,.0f}",
        )
        for o in outcomes
    ]
    out.append(
        table(
            (
                "wave",
                "status",
                "organizations done",
                "migrated",
                "skipped",
                "failed",
                "accounts created",
                "memberships",
                "activation emails",
                "seconds",
                "organizations/s",
            ),
            rows,
        )
    )
    checks = [(o.name, c) for o in outcomes for c in o.checks]
    if checks:
        out.append(
            "\n### Invariants\n"
            + table(
                ("wave", "check", "result", "detail"),
                [(n, c.name, "passed" if c.passed else "**FAILED**", c.detail) for n, c in checks],
            )
        )
    failures = [(o.name, login, reason) for o in outcomes for login, reason in o.result.failures]
    if failures:
        out.append(
            f"\n### Failures (first {len(failures)})\n"
            + table(("wave", "login ID", "reason"), failures)
        )
    listed = sum(o.result.without_administrator for o in outcomes)
    if listed:
        out.append(
            f"\n{listed} organizations were migrated without an Administrator (their items say "
            "so); the helpdesk can register one for them.\n"
        )
    if closed is not None:
        if closed.kept_until is not None:
            what = f"keep their shared log-in until {when(calendar, closed.kept_until)}"
        else:
            what = "had their shared log-in turned off"
        out.append(
            f"\n**{closed.organizations}** organizations that registered nobody {what}; the "
            "unregistered-followup deployment writes to them after the switch.\n"
        )
    fast, slow = renders
    out.append(
        f"\nActivation emails rendered: {fast} filled in from a checked stencil, {slow} in full. "
        "They are queued; the outbox-sender deployment delivers them.\n"
    )
    if not halted:
        out.append(
            "\nTo undo a wave: run the migration-rollback deployment with its name; a later "
            "login-migration run with only_wave=<name> migrates it again.\n"
        )
    return "\n".join(out)


def rollback_markdown(
    wave: str,
    reason: str,
    result: RollbackResult,
    calendar: Calendar,
    now: dt.datetime,
    *,
    dry_run: bool,
) -> str:
    out = [f"## Rollback of wave `{wave}` — {when(calendar, now)}\n"]
    if dry_run:
        out.append(DRY_RUN_BANNER)
    out.append(f"Reason: {reason}\n")
    out.append(
        table(
            ("", ""),
            [
                ("organizations back on their shared log-in", result.legacy_logins_enabled),
                ("organizations rolled back", result.organizations),
                ("memberships disabled", result.memberships_disabled),
                ("accounts disabled", result.persons_disabled),
                ("accounts kept (members of other organizations)", result.persons_kept),
                ("registrations verified again", result.registrations_restored),
                ("activation links revoked", result.links_revoked),
                ("activation emails cancelled before sending", result.emails_cancelled),
            ],
        )
    )
    if not dry_run:
        out.append(f"\nTo migrate the wave again: run login-migration with only_wave = `{wave}`.\n")
    return "\n".join(out)
