"""The login-migration flow: the switch to individual log-ins, wave by wave.

Preflight (a report of what will happen and what to look at; a dry run stops there), freeze of
pre-registration, then each wave: its organizations in batches of `batch_size` per task, the
failure rate checked after every batch, the invariants at the end. A failure rate above the
maximum, or an invariant that does not hold, halts the run with the reason — the run fails in
the UI, and running it again resumes where it stopped. When every wave is done, organizations
that registered nobody lose their shared log-in (or keep it for the configured grace period).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import deque
from typing import Annotated, Any

from prefect import flow
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from pydantic import Field

from db.enums import MigrationRunStatus, WaveStatus
from db.models import MigrationWave
from db.sqlite_writes import checkpoints_in_background
from domain.context import App
from domain.migration import preflight, runs, waves
from domain.migration.activation_mail import ActivationRenderer
from domain.migration.batch import BatchResult, describe, item_ranges
from domain.migration.plan import PlanRequest, WaveRule, plan_waves
from domain.migration.unregistered import UnregisteredResult
from flows import migration_reports as reports
from flows.runtime import flow_app, publish_markdown, publish_table, work_session
from tasks.migration import close_unregistered_logins, migrate_organizations

ARTIFACT_KEY = "login-migration"
PREFLIGHT_KEY = "login-migration-preflight"
ACTOR = "flow:login-migration"


class MigrationHalted(RuntimeError):
    """The run stopped on purpose (failure rate, invariant); a later run resumes."""


@flow(name="login-migration", log_prints=True)
def login_migration(
    as_of: dt.datetime | None = None,
    dry_run: bool = False,
    canary: list[str] | None = None,
    canary_share: Annotated[float, Field(ge=0, le=0.5)] = 0.01,
    wave_size: Annotated[int, Field(ge=1, le=1_000_000)] = 20_000,
    waves_by: WaveRule = WaveRule.SIZE,
    batch_size: Annotated[int, Field(ge=1, le=5_000)] = 500,
    max_failure_rate: Annotated[float, Field(ge=0, le=1)] = 0.02,
    only_wave: str | None = None,
    concurrent_batches: Annotated[int, Field(ge=1, le=8)] = 2,
) -> dict[str, Any]:
    """Move every organization with a verified registration to individual log-ins.

    Args:
        as_of: Run as if it were this moment (rehearsals); empty means now.
        dry_run: Plan and report only (the preflight); change nothing.
        canary: Login IDs of the canary organizations, migrated first; empty: a share of all.
        canary_share: Share of the organizations in the canary when no login IDs are given.
        wave_size: At most this many organizations per wave after the canary.
        waves_by: How the remaining waves are formed: by size in id order, or grouped by
            locale, country or account manager (each group split by wave_size).
        batch_size: Organizations per task (and per database transaction).
        max_failure_rate: Halt a wave when more than this share of its organizations failed.
        only_wave: Run only this wave, also one that was rolled back (to migrate it again).
        concurrent_batches: Batches in flight at once on PostgreSQL: one prepares its emails
            while the database writes another's. SQLite has one writer: one at a time there.
    """
    request = PlanRequest(
        canary=tuple(canary or ()),
        canary_share=canary_share,
        wave_size=wave_size,
        rule=waves_by,
    )
    with flow_app(as_of) as app:
        if dry_run:
            return _preflight_only(app, request, only_wave)
        parameters = {
            "canary": list(request.canary),
            "canary_share": canary_share,
            "wave_size": wave_size,
            "waves_by": waves_by.value,
            "batch_size": batch_size,
            "max_failure_rate": max_failure_rate,
            "only_wave": only_wave,
            "concurrent_batches": concurrent_batches,
        }
        with app.unit_of_work() as session:
            run = runs.start(
                session,
                app.clock,
                actor=ACTOR,
                parameters=parameters,
                flow_run_id=str(flow_run.id) if flow_run.id else None,
            )
            plan = plan_waves(session, app.clock, request)
        with app.sessions() as session:
            to_run = waves.waves_to_run(session, only_wave)
            pre = preflight.check(session, to_run)
            wave_ids = [(w.id, w.name) for w in to_run]
        publish_markdown(
            PREFLIGHT_KEY,
            reports.preflight_markdown(
                pre, plan, app.settings, app.calendar, app.clock.now(), dry_run=False
            ),
            f"login-migration preflight: {pre.organizations} organizations in {len(to_run)} waves",
        )
        concurrent = concurrent_batches if app.engine.dialect.name == "postgresql" else 1
        return _migrate(app, run.id, wave_ids, batch_size, max_failure_rate, only_wave, concurrent)


def _preflight_only(app: App, request: PlanRequest, only_wave: str | None) -> dict[str, Any]:
    with work_session(app, dry_run=True) as session:
        plan = plan_waves(session, app.clock, request)
        to_run = waves.waves_to_run(session, only_wave)
        pre = preflight.check(session, to_run)
    publish_markdown(
        PREFLIGHT_KEY,
        reports.preflight_markdown(
            pre, plan, app.settings, app.calendar, app.clock.now(), dry_run=True
        ),
        f"login-migration preflight (dry run): {pre.organizations} organizations",
    )
    return {
        "dry_run": True,
        "waves": [w.name for w in pre.waves],
        "organizations": pre.organizations,
        "registrations": pre.registrations,
        "without_administrator": pre.without_administrator,
        "shared_addresses": pre.shared_addresses,
        "bounced": pre.bounced,
        "unregistered": pre.unregistered,
    }


def _migrate(
    app: App,
    run_id: int,
    wave_ids: list[tuple[int, str]],
    batch_size: int,
    max_failure_rate: float,
    only_wave: str | None,
    concurrent: int,
) -> dict[str, Any]:
    renderer = ActivationRenderer(app.settings)
    outcomes: list[reports.WaveOutcome] = []
    halted: str | None = None
    closed: UnregisteredResult | None = None
    try:
        # On SQLite the log is copied into the database file beside the batches, not in their
        # commits (a sixth of the run).
        with checkpoints_in_background(app.engine):
            for wave_id, name in wave_ids:
                # Listed before it runs: a wave that stops on an error still counts what it did.
                outcome = reports.WaveOutcome(name=name)
                outcomes.append(outcome)
                _run_wave(app, wave_id, outcome, batch_size, max_failure_rate, renderer, concurrent)
                if outcome.halt_reason:
                    halted = f"wave {name}: {outcome.halt_reason}"
                    break
        if halted is None and only_wave is None:
            closed = close_unregistered_logins(app, batch_size, ACTOR)
    except Exception as exc:
        _record_end(app, run_id, outcomes, MigrationRunStatus.FAILED, describe(exc), closed)
        raise
    status = MigrationRunStatus.HALTED if halted else MigrationRunStatus.COMPLETED
    summary = _record_end(app, run_id, outcomes, status, halted, closed)
    now = app.clock.now()
    publish_markdown(
        ARTIFACT_KEY,
        reports.run_markdown(
            outcomes,
            app.calendar,
            now,
            halted=halted,
            closed=closed,
            renders=(renderer.fast, renderer.slow),
        ),
        f"login-migration: {summary['migrated']} organizations migrated"
        + (f"; HALTED: {halted}" if halted else ""),
    )
    failures: list[dict[str, object]] = [
        {"wave": o.name, "login ID": login, "reason": reason}
        for o in outcomes
        for login, reason in o.result.failures
    ]
    if failures:
        publish_table(f"{ARTIFACT_KEY}-failures", failures, "organizations that failed")
    if halted:
        raise MigrationHalted(halted)
    return summary


def _run_wave(
    app: App,
    wave_id: int,
    outcome: reports.WaveOutcome,
    batch_size: int,
    max_failure_rate: float,
    renderer: ActivationRenderer,
    concurrent: int,
) -> None:
    started = time.perf_counter()
    name = outcome.name
    with app.unit_of_work() as session:
        wave = session.get_one(MigrationWave, wave_id)
        statuses = waves.begin(session, app.clock, wave, actor=ACTOR)
        ranges = iter(item_ranges(session, wave_id, statuses, batch_size))
    in_flight: deque[PrefectFuture[BatchResult]] = deque()

    def submit() -> None:
        while len(in_flight) < concurrent and (found := next(ranges, None)):
            first_id, last_id = found
            in_flight.append(
                migrate_organizations.submit(
                    app, wave_id, name, first_id, last_id, statuses, renderer, ACTOR
                )
            )

    try:
        try:
            submit()
            checked = False
            while in_flight:
                done = in_flight.popleft().result()
                outcome.result.merge(done)
                # The wave's failure rate rises only with a batch that failed organizations:
                # counted after the first batch (failures of an earlier run count too) and then
                # after each such batch.
                if done.failed or not checked:
                    checked = True
                    with app.sessions() as session:
                        found = waves.tally(session, wave_id)
                    if reason := waves.failure_reason(found, max_failure_rate):
                        outcome.halt_reason = reason
                        break
                submit()
        finally:
            # Batches already running finish (each commits whole organizations or nothing) and
            # count, also after a halt or an error; no batch is left writing behind the halt.
            for future in in_flight:
                future.wait()
                if future.state.is_completed():
                    outcome.result.merge(future.result())
        if outcome.halt_reason:
            with app.unit_of_work() as session:
                waves.halt(
                    session,
                    app.clock,
                    session.get_one(MigrationWave, wave_id),
                    outcome.halt_reason,
                    actor=ACTOR,
                )
        else:
            with app.unit_of_work() as session:
                wave = session.get_one(MigrationWave, wave_id)
                outcome.checks = waves.finish(
                    session, app.clock, wave, actor=ACTOR, summary=_counts(outcome.result)
                )
                outcome.halt_reason = wave.halt_reason
    except Exception as exc:
        with app.unit_of_work() as session:
            waves.halt(
                session,
                app.clock,
                session.get_one(MigrationWave, wave_id),
                f"the run stopped on an error ({describe(exc)}); a re-run resumes",
                actor=ACTOR,
            )
        outcome.status = WaveStatus.HALTED.value
        outcome.seconds = time.perf_counter() - started
        raise
    with app.sessions() as session:
        outcome.status = session.get_one(MigrationWave, wave_id).status.value
        outcome.counts = waves.tally(session, wave_id).counts
    outcome.seconds = time.perf_counter() - started


def _counts(result: BatchResult) -> dict[str, int]:
    return {
        "organizations": result.items,
        "migrated": result.migrated,
        "skipped": result.skipped,
        "failed": result.failed,
        "registrations": result.registrations,
        "persons_created": result.persons_created,
        "memberships": result.memberships,
        "activation_emails": result.activation_emails,
    }


def _record_end(
    app: App,
    run_id: int,
    outcomes: list[reports.WaveOutcome],
    status: MigrationRunStatus,
    reason: str | None,
    closed: UnregisteredResult | None,
) -> dict[str, Any]:
    total = BatchResult()
    for outcome in outcomes:
        total.merge(outcome.result)
    summary: dict[str, Any] = {
        "status": status.value,
        "waves": {o.name: o.status for o in outcomes},
        **_counts(total),
        "unregistered_closed": closed.organizations if closed else 0,
        "halt_reason": reason,
    }
    with app.unit_of_work() as session:
        runs.finish(session, app.clock, run_id, status=status, report=summary, halt_reason=reason)
    return summary
