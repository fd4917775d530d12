"""Runs of the login migration, and the freeze of pre-registration that the first one sets.

Only real runs are recorded (a dry run changes nothing). The freeze is what the portal checks
before it lets anyone add, resend or withdraw a registration: once the migration has started,
the registrations are what it works from, whatever the calendar says.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.enums import MigrationRunStatus
from db.models import MigrationRun
from domain import audit
from domain.clock import Clock


def frozen_at(session: Session) -> dt.datetime | None:
    """When pre-registration was frozen by the first migration run, or None."""
    found: dt.datetime | None = session.scalar(select(func.min(MigrationRun.frozen_at)))
    return found


def is_frozen(session: Session) -> bool:
    return frozen_at(session) is not None


def start(
    session: Session,
    clock: Clock,
    *,
    actor: str,
    parameters: dict[str, Any],
    flow_run_id: str | None = None,
) -> MigrationRun:
    """Record a run; the first one freezes pre-registration. The caller commits."""
    now = clock.now()
    first = not is_frozen(session)
    run = MigrationRun(
        started_at=now,
        status=MigrationRunStatus.RUNNING,
        actor=actor,
        flow_run_id=flow_run_id,
        parameters=parameters,
        frozen_at=now if first else None,
    )
    session.add(run)
    session.flush()
    audit.record(
        session,
        clock,
        actor=actor,
        action="migration.run_started",
        entity_type="migration_run",
        entity_id=run.id,
        parameters=parameters,
    )
    if first:
        audit.record(
            session,
            clock,
            actor=actor,
            action="preregistration.frozen",
            entity_type="migration_run",
            entity_id=run.id,
        )
    return run


def finish(
    session: Session,
    clock: Clock,
    run_id: int,
    *,
    status: MigrationRunStatus,
    report: dict[str, Any],
    halt_reason: str | None = None,
) -> MigrationRun:
    run = session.get_one(MigrationRun, run_id)
    run.status = status
    run.finished_at = clock.now()
    run.report = report
    run.halt_reason = halt_reason
    audit.record(
        session,
        clock,
        actor=run.actor,
        action=f"migration.run_{status.value}",
        entity_type="migration_run",
        entity_id=run.id,
        halt_reason=halt_reason,
    )
    return run
