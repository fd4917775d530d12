"""A wave's life: started, its items done batch by batch, halted or completed, and its report.

A wave halts when the share of its organizations that failed goes above the run's maximum
failure rate, or when an invariant does not hold at its end; a later run resumes it (the items
still pending or failed). A rolled-back wave is left alone unless a run names it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from db.enums import MigrationItemStatus, WaveStatus
from db.models import MigrationItem, MigrationWave
from domain import audit
from domain.clock import Clock
from domain.migration.invariants import Check, check_wave, usage_snapshot

TO_DO = (MigrationItemStatus.PENDING, MigrationItemStatus.FAILED)
TO_REDO = (*TO_DO, MigrationItemStatus.ROLLED_BACK)


class WaveError(ValueError):
    """The wave cannot be run or rolled back as asked; the message says why."""


@dataclass(frozen=True)
class Tally:
    counts: dict[str, int]

    @property
    def failed(self) -> int:
        return self.counts.get(MigrationItemStatus.FAILED.value, 0)

    @property
    def done(self) -> int:
        return self.failed + self.counts.get(MigrationItemStatus.MIGRATED.value, 0)

    @property
    def failure_rate(self) -> float:
        return self.failed / self.done if self.done else 0.0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def tally(session: Session, wave_id: int) -> Tally:
    rows = session.execute(
        select(MigrationItem.status, func.count())
        .where(MigrationItem.wave_id == wave_id)
        .group_by(MigrationItem.status)
    ).all()
    counts = dict.fromkeys((s.value for s in MigrationItemStatus), 0)
    counts.update({MigrationItemStatus(status).value: int(n) for status, n in rows})
    return Tally(counts)


def waves_to_run(session: Session, only: str | None = None) -> list[MigrationWave]:
    """Waves in order; rolled-back ones only when named (`only`)."""
    query = select(MigrationWave).order_by(MigrationWave.position, MigrationWave.id)
    if only is not None:
        found = session.scalars(query.where(MigrationWave.name == only)).all()
        if not found:
            names = ", ".join(session.scalars(select(MigrationWave.name)).all()) or "none yet"
            raise WaveError(f"no wave is named {only!r} (waves: {names})")
        return list(found)
    return [w for w in session.scalars(query) if w.status is not WaveStatus.ROLLED_BACK]


def begin(
    session: Session, clock: Clock, wave: MigrationWave, *, actor: str
) -> Sequence[MigrationItemStatus]:
    """Mark the wave running; the item statuses this run should do."""
    now = clock.now()
    statuses = TO_REDO if wave.status is WaveStatus.ROLLED_BACK else TO_DO
    report = dict(wave.report or {})
    if wave.status is WaveStatus.ROLLED_BACK or "usage_before" not in report:
        report["usage_before"] = usage_snapshot(session, wave.id)
        report.pop("invariants", None)
    wave.report = report
    if wave.status is not WaveStatus.RUNNING:
        audit.record(
            session,
            clock,
            actor=actor,
            action="migration.wave_started"
            if wave.started_at is None
            else "migration.wave_resumed",
            entity_type="migration_wave",
            entity_id=wave.id,
            before=wave.status.value,
        )
    wave.status = WaveStatus.RUNNING
    wave.started_at = wave.started_at or now
    wave.halt_reason = None
    return statuses


def halt(session: Session, clock: Clock, wave: MigrationWave, reason: str, *, actor: str) -> None:
    wave.status = WaveStatus.HALTED
    wave.halt_reason = reason
    audit.record(
        session,
        clock,
        actor=actor,
        action="migration.wave_halted",
        entity_type="migration_wave",
        entity_id=wave.id,
        reason=reason,
    )


def failure_reason(found: Tally, max_failure_rate: float) -> str | None:
    if found.failed and found.failure_rate > max_failure_rate:
        return (
            f"{found.failed} of {found.done} organizations failed ({found.failure_rate:.1%}), "
            f"above the maximum failure rate of {max_failure_rate:.1%}"
        )
    return None


def finish(
    session: Session, clock: Clock, wave: MigrationWave, *, actor: str, summary: dict[str, Any]
) -> list[Check]:
    """Check the invariants and complete the wave, or halt it with the checks that failed."""
    report = dict(wave.report or {})
    if session.get_bind().dialect.name == "postgresql":
        # The wave grew these tables from nothing: without fresh statistics the planner picks
        # nested loops over "empty" tables for the checks' joins.
        session.execute(text("ANALYZE persons, memberships, registrations, migration_items"))
    checks = check_wave(session, wave.id, report.get("usage_before"))
    report["invariants"] = [check.as_dict() for check in checks]
    report["counts"] = tally(session, wave.id).counts
    report["last_run"] = summary
    wave.report = report
    broken = [check for check in checks if not check.passed]
    if broken:
        halt(
            session,
            clock,
            wave,
            "invariant not holding: " + "; ".join(f"{c.name}: {c.detail}" for c in broken),
            actor=actor,
        )
        return checks
    wave.status = WaveStatus.COMPLETED
    wave.finished_at = clock.now()
    audit.record(
        session,
        clock,
        actor=actor,
        action="migration.wave_completed",
        entity_type="migration_wave",
        entity_id=wave.id,
        counts=report["counts"],
    )
    return checks
