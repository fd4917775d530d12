"""Claiming due messages for one sender, and writing back what became of them.

A claim marks a message ``sending`` with the sender's name and a lease (``claimed_until``). Two
senders never claim the same message: on PostgreSQL the candidates are locked with
``FOR UPDATE SKIP LOCKED``, so a second sender passes over rows the first is claiming; SQLite
serializes writers, and the claim is one ``UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING``.
A sender that dies leaves its claims behind; once the lease has expired they are due again.

These functions run inside the caller's transaction and do not commit: the sender commits each
claim before it talks to the relay, and each group of results as soon as it has them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, select, update
from sqlalchemy.orm import Session

from db.enums import MessageStatus
from db.models import Message

MESSAGES = cast(Table, Message.__table__)
_c = MESSAGES.c


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    key: str
    to_address: str
    to_name: str | None
    subject: str
    text: str
    html: str
    attempts: int  # delivery attempts before this one
    message_id: str | None  # kept from an earlier attempt, so a retry carries the same one
    next_attempt_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    """The row's new state after one delivery attempt."""

    id: int
    status: MessageStatus  # sent, queued (to retry) or failed
    attempts: int
    next_attempt_at: dt.datetime
    message_id: str
    sent_at: dt.datetime | None = None
    last_error: str | None = None


def claim(
    session: Session,
    *,
    worker: str,
    now: dt.datetime,
    lease_until: dt.datetime,
    limit: int,
    key_prefix: str | None = None,
) -> list[Claimed]:
    """Claim up to `limit` due messages: abandoned claims first, then the queue, oldest first."""
    # Two statements rather than one with OR: each walks its own index range in order and stops
    # at `limit`, where an OR makes SQLite read every due row (bodies included) on every claim.
    expired = and_(_c.status == MessageStatus.SENDING, _c.claimed_until <= now)
    claimed = _claim(session, expired, None, worker, lease_until, limit, key_prefix)
    if len(claimed) < limit:
        due = and_(_c.status == MessageStatus.QUEUED, _c.next_attempt_at <= now)
        order = (_c.next_attempt_at, _c.id)
        claimed += _claim(
            session, due, order, worker, lease_until, limit - len(claimed), key_prefix
        )
    # RETURNING comes in no particular order; deliver in the order the queue promised.
    claimed.sort(key=lambda message: (message.next_attempt_at, message.id))
    return claimed


def _claim(
    session: Session,
    condition: Any,
    order: tuple[Any, ...] | None,
    worker: str,
    lease_until: dt.datetime,
    limit: int,
    key_prefix: str | None,
) -> list[Claimed]:
    candidates = select(_c.id).where(condition).limit(limit)
    if order is not None:
        candidates = candidates.order_by(*order)
    if key_prefix:
        candidates = candidates.where(_c.idempotency_key.startswith(key_prefix, autoescape=True))
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    statement = (
        update(MESSAGES)
        .where(_c.id.in_(candidates))
        .values(status=MessageStatus.SENDING, claimed_by=worker, claimed_until=lease_until)
        .returning(
            _c.id,
            _c.idempotency_key,
            _c.to_address,
            _c.to_name,
            _c.subject,
            _c.body_text,
            _c.body_html,
            _c.attempts,
            _c.message_id,
            _c.next_attempt_at,
        )
    )
    return [Claimed(*row) for row in session.execute(statement)]


def renew(
    session: Session, *, worker: str, ids: Collection[int], lease_until: dt.datetime
) -> set[int]:
    """Extend the lease of claims still held; returns the ids that are still ours."""
    if not ids:
        return set()
    statement = (
        update(MESSAGES)
        .where(_c.id.in_(list(ids)), _held_by(worker))
        .values(claimed_until=lease_until)
        .returning(_c.id)
    )
    return set(session.execute(statement).scalars())


def release(session: Session, *, worker: str, ids: Collection[int]) -> int:
    """Give claims back untried, due at once; returns how many were still ours."""
    if not ids:
        return 0
    statement = (
        update(MESSAGES)
        .where(_c.id.in_(list(ids)), _held_by(worker))
        .values(status=MessageStatus.QUEUED, claimed_by=None, claimed_until=None)
        .returning(_c.id)
    )
    return len(session.execute(statement).all())


_RECORD = (
    update(MESSAGES)
    .where(
        _c.id == bindparam("o_id"),
        _c.claimed_by == bindparam("o_worker"),
        _c.status == MessageStatus.SENDING,
    )
    .values(
        status=bindparam("o_status"),
        attempts=bindparam("o_attempts"),
        next_attempt_at=bindparam("o_next_attempt_at"),
        message_id=bindparam("o_message_id"),
        sent_at=bindparam("o_sent_at"),
        last_error=bindparam("o_last_error"),
        claimed_by=None,
        claimed_until=None,
    )
)


def record(session: Session, *, worker: str, outcomes: Sequence[Outcome]) -> int:
    """Write the outcomes of claims this worker holds, in one executemany; returns rows written.

    A row that is no longer ours (its lease expired and another sender took it) is left alone.
    """
    if not outcomes:
        return 0
    parameters: list[dict[str, Any]] = [
        {
            "o_id": outcome.id,
            "o_worker": worker,
            "o_status": outcome.status,
            "o_attempts": outcome.attempts,
            "o_next_attempt_at": outcome.next_attempt_at,
            "o_message_id": outcome.message_id,
            "o_sent_at": outcome.sent_at,
            "o_last_error": outcome.last_error,
        }
        for outcome in outcomes
    ]
    result = session.execute(_RECORD, parameters)
    return cast(int, result.rowcount)  # type: ignore[attr-defined]


def _held_by(worker: str) -> Any:
    return and_(_c.claimed_by == worker, _c.status == MessageStatus.SENDING)
