"""The audit trail: who did what to which record, when. Every state change writes one event."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from db.models import AuditEvent
from domain.clock import Clock


def record(
    session: Session,
    clock: Clock,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: int | None,
    organization_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event to the caller's transaction (it commits or rolls back with the change).

    ``actor`` names who acted, as ``kind:name`` — ``org:NK123456``, ``person:42``,
    ``agent:yamada``, ``flow:reminder-campaign``, ``system:bounces``.
    """
    event = AuditEvent(
        occurred_at=clock.now(),
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        organization_id=organization_id,
        details=details or None,
    )
    session.add(event)
    return event


_INSERT = insert(cast(Table, AuditEvent.__table__))


def append(
    session: Session,
    clock: Clock,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: int | None,
    organization_id: int | None = None,
    **details: Any,
) -> None:
    """`record` as one INSERT executed at once, with no ORM object: for the hottest requests."""
    session.connection().execute(
        _INSERT,
        {
            "occurred_at": clock.now(),
            "actor": actor,
            "action": action,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "organization_id": organization_id,
            "details": details or None,
        },
    )
