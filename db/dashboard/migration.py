"""The Migration page: waves and their items, failures, invariant checks, rollbacks, accounts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from db.enums import MembershipStatus, MigrationItemStatus, PersonStatus
from db.models import (
    AuditEvent,
    Membership,
    MigrationItem,
    MigrationWave,
    Organization,
    Person,
)

FAILURE_LIMIT = 500
HISTORY_LIMIT = 200
WAVE_ENTITY = "migration_wave"


@dataclass(frozen=True)
class WaveProgress:
    id: int
    name: str
    position: int
    status: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    rolled_back_at: dt.datetime | None
    halt_reason: str | None
    counts: Mapping[str, int]  # MigrationItemStatus value -> items
    report: Mapping[str, Any] | None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        """Items a run has dealt with, one way or another."""
        return self.total - self.counts.get(MigrationItemStatus.PENDING.value, 0)

    @property
    def progress(self) -> float:
        return self.done / self.total if self.total else 0.0


@dataclass(frozen=True)
class InvariantResult:
    wave: str
    check: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Accounts:
    persons: Mapping[str, int]  # PersonStatus value -> persons
    memberships: Mapping[str, int]  # MembershipStatus value -> memberships


def waves(session: Session) -> list[WaveProgress]:
    statuses = list(MigrationItemStatus)
    counts = (
        select(
            MigrationItem.wave_id.label("wave_id"),
            *(
                func.sum(case((MigrationItem.status == s, 1), else_=0)).label(s.value)
                for s in statuses
            ),
        )
        .group_by(MigrationItem.wave_id)
        .subquery("item_counts")
    )
    rows = session.execute(
        select(MigrationWave, *(counts.c[s.value] for s in statuses))
        .outerjoin(counts, counts.c.wave_id == MigrationWave.id)
        .order_by(MigrationWave.position, MigrationWave.id)
    ).all()
    result = []
    for wave, *numbers in rows:
        result.append(
            WaveProgress(
                id=wave.id,
                name=wave.name,
                position=wave.position,
                status=wave.status.value,
                started_at=wave.started_at,
                finished_at=wave.finished_at,
                rolled_back_at=wave.rolled_back_at,
                halt_reason=wave.halt_reason,
                counts={s.value: int(n or 0) for s, n in zip(statuses, numbers, strict=True)},
                report=wave.report,
            )
        )
    return result


def failure_reasons(session: Session) -> list[tuple[str, int]]:
    """Failed items grouped by reason, most frequent first."""
    reason = func.coalesce(MigrationItem.reason, "(no reason recorded)")
    rows = session.execute(
        select(reason, func.count())
        .where(MigrationItem.status == MigrationItemStatus.FAILED)
        .group_by(reason)
        .order_by(func.count().desc(), reason)
    ).all()
    return [(str(r), int(n)) for r, n in rows]


def failures(session: Session, limit: int = FAILURE_LIMIT) -> list[dict[str, Any]]:
    rows = session.execute(
        select(
            MigrationWave.name.label("wave"),
            Organization.legacy_login_id.label("login_id"),
            Organization.name.label("organization"),
            Organization.name_local.label("name_local"),
            MigrationItem.reason.label("reason"),
            MigrationItem.updated_at.label("failed_at"),
        )
        .join(MigrationWave, MigrationWave.id == MigrationItem.wave_id)
        .join(Organization, Organization.id == MigrationItem.organization_id)
        .where(MigrationItem.status == MigrationItemStatus.FAILED)
        .order_by(MigrationItem.updated_at.desc(), MigrationItem.id.desc())
        .limit(limit)
    ).mappings()
    return [dict(row) for row in rows]


def invariants(progress: list[WaveProgress]) -> list[InvariantResult]:
    """The invariant checks recorded in each wave's report, whatever shape the run wrote.

    Accepted: ``{"invariants": [{"name", "passed"|"ok", "detail"}...]}`` or
    ``{"invariants": {"name": true | {"passed"|"ok", "detail"}}}``.
    """
    results = []
    for wave in progress:
        checks = (wave.report or {}).get("invariants")
        items: list[tuple[str, Any]] = []
        if isinstance(checks, Mapping):
            items = [(str(name), value) for name, value in checks.items()]
        elif isinstance(checks, list):
            items = [
                (str(entry.get("name") or entry.get("check") or f"check {i + 1}"), entry)
                for i, entry in enumerate(checks)
                if isinstance(entry, Mapping)
            ]
        for name, value in items:
            passed, detail = _outcome(value)
            results.append(InvariantResult(wave.name, name, passed, detail))
    return results


def _outcome(value: Any) -> tuple[bool, str]:
    if isinstance(value, bool):
        return value, ""
    if isinstance(value, Mapping):
        flag = value.get("passed", value.get("ok", value.get("status")))
        passed = flag is True or str(flag).lower() in ("passed", "ok", "true")
        detail = value.get("detail", value.get("details", value.get("message", "")))
        return passed, "" if detail is None else str(detail)
    return False, str(value)


def rollback_history(session: Session, limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
    """Audit events of wave rollbacks, newest first.

    Looked up by (entity type, wave id), the audit trail's own index: the trail holds an event
    for every registration too, and a planner that cannot tell how rare wave events are would
    otherwise read it whole. Items rolled back with their wave are counted per wave instead.
    """
    wave_ids = list(session.scalars(select(MigrationWave.id)))
    if not wave_ids:
        return []
    rows = session.execute(
        select(
            AuditEvent.occurred_at.label("at"),
            AuditEvent.actor.label("actor"),
            AuditEvent.action.label("action"),
            AuditEvent.entity_id.label("wave_id"),
            AuditEvent.details.label("details"),
        )
        .where(
            AuditEvent.entity_type == WAVE_ENTITY,
            AuditEvent.entity_id.in_(wave_ids),
            or_(AuditEvent.action.like("%rollback%"), AuditEvent.action.like("%rolled_back%")),
        )
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).mappings()
    return [dict(row) for row in rows]


def accounts(session: Session) -> Accounts:
    persons = dict(
        session.execute(select(Person.status, func.count()).group_by(Person.status)).all()
    )
    memberships = dict(
        session.execute(select(Membership.status, func.count()).group_by(Membership.status)).all()
    )
    return Accounts(
        persons={s.value: int(persons.get(s, 0)) for s in PersonStatus},
        memberships={s.value: int(memberships.get(s, 0)) for s in MembershipStatus},
    )
