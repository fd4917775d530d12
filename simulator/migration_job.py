"""flows.login_migration, as the simulator runs it: at the switch, then catch-ups by hand.

The same steps as the flow's real run (not its dry run), with its default parameters: record the
run (the first one freezes pre-registration), plan the waves (canary, then waves; later runs a
catch-up wave for organizations the helpdesk made ready), migrate each wave in batches through
the `migrate-organizations` task's function, halt above the failure rate, check the invariants
when a wave ends, close the shared log-in of organizations that registered nobody, record the
end. After the switch the simulator runs it again each morning when the helpdesk has made an
organization ready — as an operator would by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from db.enums import MigrationRunStatus, WaveStatus
from db.models import MigrationWave
from domain.context import App
from domain.migration import plan, runs, waves
from domain.migration.activation_mail import ActivationRenderer
from domain.migration.batch import BatchResult, describe, item_ranges
from domain.migration.plan import PlanRequest, WaveRule
from flows.login_migration import ACTOR
from tasks.migration import close_unregistered_logins, migrate_organizations

CANARY_SHARE = 0.01
WAVE_SIZE = 20_000
BATCH_SIZE = 500
MAX_FAILURE_RATE = 0.02


@dataclass
class MigrationOutcome:
    waves: dict[str, str] = field(default_factory=dict)  # name -> final status
    result: BatchResult = field(default_factory=BatchResult)
    closed: int = 0  # unregistered organizations whose shared log-in was turned off
    halted: str | None = None


def has_candidates(app: App) -> bool:
    with app.sessions() as session:
        return bool(plan.candidates(session))


def login_migration(app: App) -> MigrationOutcome:
    request = PlanRequest(
        canary=(), canary_share=CANARY_SHARE, wave_size=WAVE_SIZE, rule=WaveRule.SIZE
    )
    parameters = {
        "canary": [],
        "canary_share": CANARY_SHARE,
        "wave_size": WAVE_SIZE,
        "waves_by": WaveRule.SIZE.value,
        "batch_size": BATCH_SIZE,
        "max_failure_rate": MAX_FAILURE_RATE,
        "only_wave": None,
        "simulated": True,
    }
    with app.unit_of_work() as session:
        run = runs.start(session, app.clock, actor=ACTOR, parameters=parameters)
        plan.plan_waves(session, app.clock, request)
    with app.sessions() as session:
        to_run = [(w.id, w.name) for w in waves.waves_to_run(session, None)]
    outcome = MigrationOutcome()
    renderer = ActivationRenderer(app.settings)
    status = MigrationRunStatus.COMPLETED
    try:
        for wave_id, name in to_run:
            outcome.waves[name] = _wave(app, wave_id, name, renderer, outcome)
            if outcome.halted:
                status = MigrationRunStatus.HALTED
                break
        else:
            outcome.closed = close_unregistered_logins.fn(app, BATCH_SIZE, ACTOR).organizations
    except Exception as exc:
        status = MigrationRunStatus.FAILED
        outcome.halted = describe(exc)
        raise
    finally:
        with app.unit_of_work() as session:
            runs.finish(
                session,
                app.clock,
                run.id,
                status=status,
                report={"waves": outcome.waves, "closed": outcome.closed, "simulated": True},
                halt_reason=outcome.halted,
            )
    return outcome


def _wave(
    app: App, wave_id: int, name: str, renderer: ActivationRenderer, outcome: MigrationOutcome
) -> str:
    with app.unit_of_work() as session:
        wave = session.get_one(MigrationWave, wave_id)
        statuses = waves.begin(session, app.clock, wave, actor=ACTOR)
        ranges = item_ranges(session, wave_id, statuses, BATCH_SIZE)
    for first_id, last_id in ranges:
        outcome.result.merge(
            migrate_organizations.fn(
                app, wave_id, name, first_id, last_id, statuses, renderer, ACTOR
            )
        )
        with app.sessions() as session:
            reason = waves.failure_reason(waves.tally(session, wave_id), MAX_FAILURE_RATE)
        if reason:
            with app.unit_of_work() as session:
                waves.halt(
                    session, app.clock, session.get_one(MigrationWave, wave_id), reason, actor=ACTOR
                )
            outcome.halted = f"wave {name}: {reason}"
            return WaveStatus.HALTED.value
    with app.unit_of_work() as session:
        wave = session.get_one(MigrationWave, wave_id)
        waves.finish(session, app.clock, wave, actor=ACTOR, summary={"simulated": True})
        if wave.halt_reason:
            outcome.halted = f"wave {name}: {wave.halt_reason}"
        return wave.status.value
