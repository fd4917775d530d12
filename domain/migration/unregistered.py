"""The shared log-in of organizations that registered nobody in time.

They are not migrated (there is no one to migrate). At the switch their shared log-in is turned
off, or — with ``unregistered_legacy_grace_days`` — kept until the end of a grace period, after
which it stops working by itself (``legacy_login_expires_at``). Either way they are in the
unregistered follow-up (the unregistered-followup flow writes to them after the switch), and the
helpdesk can register someone for them; a later migration run then migrates them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

from sqlalchemy import ColumnElement, Table, and_, exists, func, insert, select, update
from sqlalchemy.orm import Session

from db.enums import RegistrationStatus
from db.models import AuditEvent, Organization, Registration
from domain.clock import Calendar, Clock
from domain.settings import Settings

AUDIT = cast(Table, AuditEvent.__table__)


@dataclass
class UnregisteredResult:
    organizations: int = 0
    disabled: int = 0
    kept_until: dt.datetime | None = None  # the end of the grace period, when there is one

    def merge(self, other: UnregisteredResult) -> UnregisteredResult:
        self.organizations += other.organizations
        self.disabled += other.disabled
        self.kept_until = self.kept_until or other.kept_until
        return self


def _unregistered() -> ColumnElement[bool]:
    registered = exists().where(
        Registration.organization_id == Organization.id,
        Registration.status.in_([RegistrationStatus.VERIFIED, RegistrationStatus.MIGRATED]),
    )
    return and_(
        Organization.legacy_login_enabled.is_(True),
        Organization.legacy_login_expires_at.is_(None),
        ~registered,
    )


def grace_end(settings: Settings, calendar: Calendar, now: dt.datetime) -> dt.datetime | None:
    days = settings.unregistered_legacy_grace_days
    if not days:
        return None
    return max(calendar.switch_at, now) + dt.timedelta(days=days)


def ranges(session: Session, batch_size: int) -> list[tuple[int, int]]:
    ids = session.scalars(
        select(Organization.id).where(_unregistered()).order_by(Organization.id)
    ).all()
    return [
        (ids[i], ids[min(i + batch_size, len(ids)) - 1]) for i in range(0, len(ids), batch_size)
    ]


def count(session: Session) -> int:
    found = session.scalar(select(func.count()).select_from(Organization).where(_unregistered()))
    return int(found or 0)


def close(
    session: Session,
    clock: Clock,
    settings: Settings,
    calendar: Calendar,
    first_id: int,
    last_id: int,
    *,
    actor: str,
) -> UnregisteredResult:
    """Turn off (or put on a grace period) the shared log-in of the range's unregistered
    organizations; the caller commits."""
    now = clock.now()
    ids = session.scalars(
        select(Organization.id).where(Organization.id.between(first_id, last_id), _unregistered())
    ).all()
    if not ids:
        return UnregisteredResult()
    until = grace_end(settings, calendar, now)
    values = (
        {"legacy_login_enabled": False, "legacy_login_disabled_at": now}
        if until is None
        else {"legacy_login_expires_at": until}
    )
    session.execute(
        update(Organization)
        .where(Organization.id.in_(ids), _unregistered())
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    action = "legacy_login.disabled_unregistered" if until is None else "legacy_login.grace_set"
    session.execute(
        insert(AUDIT),
        [
            {
                "occurred_at": now,
                "actor": actor,
                "action": action,
                "entity_type": "organization",
                "entity_id": oid,
                "organization_id": oid,
                "details": {"until": until.isoformat()} if until else None,
            }
            for oid in ids
        ],
    )
    return UnregisteredResult(
        organizations=len(ids), disabled=len(ids) if until is None else 0, kept_until=until
    )
