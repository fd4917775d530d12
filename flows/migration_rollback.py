"""The migration-rollback flow: undo one wave (see `domain.migration.rollback` for what that is)."""

from __future__ import annotations

from typing import Annotated, Any

from prefect import flow
from pydantic import Field

from db.models import MigrationWave
from domain.migration import rollback
from domain.migration.rollback import RollbackResult
from flows import migration_reports as reports
from flows.runtime import flow_app, publish_markdown
from tasks.migration import roll_back_organizations

ARTIFACT_KEY = "migration-rollback"
ACTOR = "flow:migration-rollback"


@flow(name="migration-rollback", log_prints=True)
def migration_rollback(
    wave: Annotated[str, Field(min_length=1, max_length=100)],
    reason: Annotated[str, Field(min_length=3, max_length=500)],
    dry_run: bool = False,
    force: bool = False,
    batch_size: Annotated[int, Field(ge=1, le=5_000)] = 500,
) -> dict[str, Any]:
    """Put one wave's organizations back on their shared log-in.

    Their legacy log-ins are turned on again; the memberships the wave created are disabled, and
    the accounts left without any membership with them (a person who also belongs to an
    organization that is not rolled back keeps that membership); unused activation links are
    revoked and unsent activation emails cancelled; the registrations are verified again. Every
    change is audited. Running login-migration with only_wave set to this wave migrates it again.

    Args:
        wave: The wave's name, as the migration report and the dashboard show it (e.g. canary).
        reason: Why, recorded with the rollback in the audit trail and the wave's report.
        dry_run: Count what would be undone; change nothing.
        force: Roll back a wave still marked running (only when the run doing it has died).
        batch_size: Organizations per task (and per database transaction).
    """
    with flow_app() as app:
        with app.sessions() as session:
            found = rollback.find_wave(session, wave)
            rollback.check_can_roll_back(found, force=force)
            ranges = rollback.item_ranges(session, found.id, batch_size)
            wave_id, name = found.id, found.name
        clean_reason = " ".join(reason.split())
        total = RollbackResult()
        for first_id, last_id in ranges:
            total.merge(
                roll_back_organizations(
                    app, wave_id, name, first_id, last_id, clean_reason, ACTOR, dry_run
                )
            )
        if not dry_run:
            with app.unit_of_work() as session:
                rollback.finish(
                    session,
                    app.clock,
                    session.get_one(MigrationWave, wave_id),
                    total,
                    reason=clean_reason,
                    actor=ACTOR,
                )
        publish_markdown(
            ARTIFACT_KEY,
            reports.rollback_markdown(
                name, clean_reason, total, app.calendar, app.clock.now(), dry_run=dry_run
            ),
            f"migration-rollback {name}: {total.organizations} organizations"
            + (" (dry run)" if dry_run else ""),
        )
        return {"wave": name, "dry_run": dry_run, **total.as_dict()}
