"""The injected clock, and the calendar of the switch expressed in instants.

Business code asks a `Clock` for the time; it never calls ``datetime.now()``. That is what lets
the tests and the simulator replay June–October 2025 in minutes. Instants are timezone-aware UTC;
people see the configured zone (Asia/Tokyo) through `Calendar.local`.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from domain.settings import Settings

UTC = dt.UTC


def as_utc(moment: dt.datetime) -> dt.datetime:
    """An aware UTC instant; a naive datetime is refused because its zone would be a guess."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: give a time zone")
    return moment.astimezone(UTC)


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant, aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)


class FixedClock:
    """Always the same instant until told otherwise; `advance` and `set` move it."""

    def __init__(self, at: dt.datetime) -> None:
        self._at = as_utc(at)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        return self._at

    def set(self, at: dt.datetime) -> None:
        with self._lock:
            self._at = as_utc(at)

    def advance(self, delta: dt.timedelta | None = None, **kwargs: float) -> dt.datetime:
        step = delta if delta is not None else dt.timedelta(**kwargs)
        if step < dt.timedelta(0):
            raise ValueError("a clock only moves forward")
        with self._lock:
            self._at += step
            return self._at


class OffsetClock:
    """Real time shifted so that it started at `start`: a demo can stand on 2025-08-01 and tick."""

    def __init__(self, start: dt.datetime) -> None:
        self._start = as_utc(start)
        self._origin = time.monotonic()

    def now(self) -> dt.datetime:
        return self._start + dt.timedelta(seconds=time.monotonic() - self._origin)


def clock_from_settings(settings: Settings) -> Clock:
    if settings.clock_at is None:
        return SystemClock()
    at = settings.clock_at
    if at.tzinfo is None:
        at = at.replace(tzinfo=settings.tz)
    return OffsetClock(at)


@dataclass(frozen=True)
class Calendar:
    """The dates of the switch as instants: opening at 00:00, closing when the close day ends."""

    tz: ZoneInfo
    opens_on: dt.date
    closes_on: dt.date
    switch_on: dt.date

    @classmethod
    def from_settings(cls, settings: Settings) -> Calendar:
        return cls(
            tz=settings.tz,
            opens_on=settings.preregistration_opens,
            closes_on=settings.preregistration_closes,
            switch_on=settings.switch_date,
        )

    def start_of(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), tzinfo=self.tz).astimezone(UTC)

    @property
    def opens_at(self) -> dt.datetime:
        return self.start_of(self.opens_on)

    @property
    def closes_at(self) -> dt.datetime:
        """The first instant after the window: 14 Sep 23:59:59.999… is still inside."""
        return self.start_of(self.closes_on + dt.timedelta(days=1))

    @property
    def switch_at(self) -> dt.datetime:
        return self.start_of(self.switch_on)

    def local(self, moment: dt.datetime) -> dt.datetime:
        return as_utc(moment).astimezone(self.tz)

    def local_date(self, moment: dt.datetime) -> dt.date:
        return self.local(moment).date()

    def phase(self, moment: dt.datetime) -> str:
        """Where on the calendar an instant stands: before, open, closed, switched."""
        at = as_utc(moment)
        if at < self.opens_at:
            return "before"
        if at < self.closes_at:
            return "open"
        if at < self.switch_at:
            return "closed"
        return "switched"

    def is_open(self, moment: dt.datetime) -> bool:
        return self.phase(moment) == "open"

    def days_until_close(self, moment: dt.datetime) -> int:
        """Whole calendar days from the local date of `moment` to the close date (T-n)."""
        return (self.closes_on - self.local_date(moment)).days
