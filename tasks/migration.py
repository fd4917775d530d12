"""Tasks of the login migration and its rollback: a range of items per task.

A task migrates (or rolls back) `batch_size` organizations, 500 by default: Prefect's bookkeeping
costs milliseconds per task run, nothing against hundreds of organizations, and a wave of
20,000 is forty task runs in the UI rather than twenty thousand. The domain functions own the
transactions (`domain.migration.batch.migrate_range`), so a task that dies leaves whole
organizations done or not done, and the next run carries on.
"""

from __future__ import annotations

from collections.abc import Sequence

from prefect import task
from prefect.cache_policies import NO_CACHE

from db.enums import MigrationItemStatus
from db.models import MigrationWave
from domain.context import App
from domain.migration import rollback, unregistered
from domain.migration.activation_mail import ActivationRenderer
from domain.migration.batch import BatchResult, migrate_range
from flows.runtime import work_session


@task(
    name="migrate-organizations",
    cache_policy=NO_CACHE,
    task_run_name="{wave_name}: items {first_id}-{last_id}",
)
def migrate_organizations(
    app: App,
    wave_id: int,
    wave_name: str,
    first_id: int,
    last_id: int,
    statuses: Sequence[MigrationItemStatus],
    renderer: ActivationRenderer,
    actor: str,
) -> BatchResult:
    return migrate_range(app, wave_id, first_id, last_id, statuses, renderer, actor=actor)


@task(
    name="roll-back-organizations",
    cache_policy=NO_CACHE,
    task_run_name="{wave_name}: items {first_id}-{last_id}",
)
def roll_back_organizations(
    app: App,
    wave_id: int,
    wave_name: str,
    first_id: int,
    last_id: int,
    reason: str,
    actor: str,
    dry_run: bool,
) -> rollback.RollbackResult:
    with work_session(app, dry_run=dry_run) as session:
        wave = session.get_one(MigrationWave, wave_id)
        return rollback.roll_back_items(
            session, app.clock, wave, first_id, last_id, reason=reason, actor=actor
        )


@task(name="close-unregistered-logins", cache_policy=NO_CACHE)
def close_unregistered_logins(
    app: App, batch_size: int, actor: str
) -> unregistered.UnregisteredResult:
    """Every unregistered organization, one transaction per `batch_size` of them."""
    with app.sessions() as session:
        ranges = unregistered.ranges(session, batch_size)
    total = unregistered.UnregisteredResult()
    for first_id, last_id in ranges:
        with app.unit_of_work() as session:
            total.merge(
                unregistered.close(
                    session, app.clock, app.settings, app.calendar, first_id, last_id, actor=actor
                )
            )
    return total
