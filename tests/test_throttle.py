"""Throttling counts recent events per key in the database, over a sliding window."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import RateEvent
from domain import throttle
from domain.clock import FixedClock

LIMIT = throttle.Limit("test", 3, dt.timedelta(minutes=15))


def test_allows_up_to_the_limit_then_says_how_long_to_wait(
    session: Session, clock: FixedClock
) -> None:
    for _ in range(3):
        assert throttle.check(session, clock, LIMIT, "203.0.113.7").allowed
        throttle.record(session, clock, LIMIT.bucket, "203.0.113.7")
        clock.advance(minutes=1)
    verdict = throttle.check(session, clock, LIMIT, "203.0.113.7")
    assert not verdict.allowed
    assert verdict.retry_after == dt.timedelta(minutes=12)
    assert verdict.retry_after_minutes == 12
    clock.advance(minutes=12)
    assert throttle.check(session, clock, LIMIT, "203.0.113.7").allowed


def test_keys_and_buckets_are_counted_apart(session: Session, clock: FixedClock) -> None:
    for _ in range(3):
        throttle.record(session, clock, LIMIT.bucket, "a@example.com")
    assert not throttle.check(session, clock, LIMIT, "A@Example.com ").allowed  # same key
    assert throttle.check(session, clock, LIMIT, "b@example.com").allowed
    other = throttle.Limit("other", 3, LIMIT.window)
    assert throttle.check(session, clock, other, "a@example.com").allowed


def test_keys_are_stored_only_as_hashes(session: Session, clock: FixedClock) -> None:
    throttle.record(session, clock, LIMIT.bucket, "198.51.100.23")
    session.flush()
    stored = session.scalars(select(RateEvent.key_hash)).one()
    assert "198.51.100.23" not in stored and len(stored) == 64


def test_clear_and_prune(session: Session, clock: FixedClock) -> None:
    throttle.record(session, clock, LIMIT.bucket, "k")
    throttle.record(session, clock, LIMIT.bucket, "k")
    session.flush()
    assert throttle.clear(session, LIMIT.bucket, "k") == 2
    throttle.record(session, clock, LIMIT.bucket, "old")
    session.flush()
    clock.advance(days=1, seconds=1)
    throttle.record(session, clock, LIMIT.bucket, "new")
    session.flush()
    assert throttle.prune(session, clock) == 1
    assert session.scalar(select(func.count()).select_from(RateEvent)) == 1


def test_wait_is_at_least_a_minute() -> None:
    assert throttle.Verdict(False, dt.timedelta(seconds=5)).retry_after_minutes == 1
    assert throttle.Verdict(False, dt.timedelta(seconds=61)).retry_after_minutes == 2


def test_a_limit_must_be_usable() -> None:
    with pytest.raises(ValueError, match="unusable"):
        throttle.Limit("x", 0, dt.timedelta(minutes=1))
    with pytest.raises(ValueError, match="unusable"):
        throttle.Limit("x", 1, dt.timedelta(days=2))
