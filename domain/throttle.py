"""Throttling: count recent attempts per key in the database, refuse past a limit.

A limit is "at most N events per window" for one bucket (failed log-ins per organization, per
client address, contact-form posts per address, resent links per registration). Counting happens
in the database so every portal worker sees the same numbers, and the time comes from the injected
clock so tests can walk past a window without sleeping.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from db.models import RateEvent
from domain.clock import Clock

# Nothing counts further back than a day; older rows only take space.
RETENTION = dt.timedelta(days=1)


@dataclass(frozen=True)
class Limit:
    bucket: str
    max_events: int
    window: dt.timedelta

    def __post_init__(self) -> None:
        if self.max_events < 1 or self.window <= dt.timedelta(0) or self.window > RETENTION:
            raise ValueError(f"unusable limit {self!r}")


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: dt.timedelta = dt.timedelta(0)  # until the oldest counted event leaves the window

    @property
    def retry_after_minutes(self) -> int:
        """Whole minutes to wait, rounded up, at least one: what a person is told."""
        seconds = max(0, int(self.retry_after.total_seconds()))
        return max(1, -(-seconds // 60))


def key_hash(key: str) -> str:
    return hashlib.sha256(key.strip().casefold().encode("utf-8")).hexdigest()


def check(session: Session, clock: Clock, limit: Limit, key: str) -> Verdict:
    """Whether one more event for `key` stays within `limit` (nothing is recorded)."""
    now = clock.now()
    since = now - limit.window
    count, oldest = session.execute(
        select(func.count(), func.min(RateEvent.occurred_at)).where(
            RateEvent.bucket == limit.bucket,
            RateEvent.key_hash == key_hash(key),
            RateEvent.occurred_at > since,
        )
    ).one()
    if (count or 0) < limit.max_events:
        return Verdict(True)
    # Counting is over a sliding window, so the wait ends when the oldest counted event ages out.
    # (With more than max_events counted this is an upper bound, which errs on the safe side.)
    oldest_at: dt.datetime = oldest  # aware: the column type converts aggregates too
    return Verdict(False, retry_after=max(oldest_at + limit.window - now, dt.timedelta(0)))


def record(session: Session, clock: Clock, bucket: str, key: str) -> None:
    session.add(RateEvent(bucket=bucket, key_hash=key_hash(key), occurred_at=clock.now()))


def clear(session: Session, bucket: str, key: str) -> int:
    """Forget the key's events in a bucket (a successful log-in resets its failures)."""
    result = session.execute(
        delete(RateEvent).where(RateEvent.bucket == bucket, RateEvent.key_hash == key_hash(key))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def prune(session: Session, clock: Clock) -> int:
    """Drop events older than any window; cheap (indexed) and safe to call often."""
    result = session.execute(
        delete(RateEvent).where(RateEvent.occurred_at < clock.now() - RETENTION)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
