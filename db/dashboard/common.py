"""SQL building blocks the dashboard's queries share: local calendar days, durations, percentiles,
and each organization's stage in the pre-registration funnel.

Everything here is computed by the database; Python only receives aggregates. The two supported
databases disagree on dates and times, so the few expressions that differ are built here once.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from itertools import pairwise
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Date,
    Float,
    Select,
    Subquery,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Session

from db.enums import MigrationItemStatus, RegistrationStatus, Role
from db.models import MigrationItem, Organization, Registration

AnySelect: TypeAlias = Select[*tuple[Any, ...]]

# A registration counts as the organization having acted unless it was taken back.
ACTED = tuple(s for s in RegistrationStatus if s is not RegistrationStatus.WITHDRAWN)
CONFIRMED = (RegistrationStatus.VERIFIED, RegistrationStatus.MIGRATED)


class Stage(StrEnum):
    """How far an organization has come; each stage implies the ones before it."""

    NOT_REGISTERED = "not_registered"  # nothing submitted (or everything withdrawn)
    REGISTERED = "registered"  # submitted, nobody confirmed yet
    VERIFIED = "verified"  # someone confirmed, but no Administrator
    READY = "ready"  # a verified Administrator: the organization can migrate
    MIGRATED = "migrated"  # moved to individual logins

    @property
    def label(self) -> str:
        return STAGE_LABELS[self]


STAGE_LABELS = {
    Stage.NOT_REGISTERED: "Not registered",
    Stage.REGISTERED: "Registered, unverified",
    Stage.VERIFIED: "Verified, no Administrator",
    Stage.READY: "Ready",
    Stage.MIGRATED: "Migrated",
}


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


# --- per-organization facts as correlated EXISTS: cheap for one page of rows, and a semi-join
# when used as a filter ---


def has_registration(
    org_id: Any, statuses: tuple[RegistrationStatus, ...], role: Role | None = None
) -> ColumnElement[bool]:
    conditions = [Registration.organization_id == org_id, Registration.status.in_(statuses)]
    if role is not None:
        conditions.append(Registration.role == role)
    return exists().where(*conditions)


def is_migrated(org_id: Any) -> ColumnElement[bool]:
    return exists().where(
        MigrationItem.organization_id == org_id,
        MigrationItem.status == MigrationItemStatus.MIGRATED,
    )


def stage_of(org_id: Any) -> ColumnElement[str]:
    """The organization's `Stage` value, one SQL expression."""
    return case(
        (is_migrated(org_id), literal(Stage.MIGRATED.value)),
        (
            has_registration(org_id, CONFIRMED, Role.ADMINISTRATOR),
            literal(Stage.READY.value),
        ),
        (has_registration(org_id, CONFIRMED), literal(Stage.VERIFIED.value)),
        (has_registration(org_id, ACTED), literal(Stage.REGISTERED.value)),
        else_=literal(Stage.NOT_REGISTERED.value),
    )


def stage_condition(org_id: Any, stage: Stage) -> ColumnElement[bool]:
    """Organizations exactly at `stage` (not further)."""
    migrated = is_migrated(org_id)
    ready = has_registration(org_id, CONFIRMED, Role.ADMINISTRATOR)
    verified = has_registration(org_id, CONFIRMED)
    registered = has_registration(org_id, ACTED)
    if stage is Stage.MIGRATED:
        return migrated
    if stage is Stage.READY:
        return and_(ready, ~migrated)
    if stage is Stage.VERIFIED:
        return and_(verified, ~ready, ~migrated)
    if stage is Stage.REGISTERED:
        return and_(registered, ~verified, ~migrated)
    return and_(~registered, ~migrated)


def registration_flags(*, first: bool = False) -> Subquery:
    """One row per organization with registrations: registered / verified / ready as 0 or 1,
    and with `first` the instant of its first registration (whatever became of it).

    One pass over registrations grouped by organization: for whole-population figures this is
    far cheaper than an EXISTS probe per organization.
    """
    confirmed = Registration.status.in_(CONFIRMED)
    columns = [
        Registration.organization_id.label("organization_id"),
        func.max(case((Registration.status.in_(ACTED), 1), else_=0)).label("registered"),
        func.max(case((confirmed, 1), else_=0)).label("verified"),
        func.max(
            case((and_(confirmed, Registration.role == Role.ADMINISTRATOR), 1), else_=0)
        ).label("ready"),
    ]
    if first:
        columns.append(func.min(Registration.submitted_at).label("first_at"))
    return select(*columns).group_by(Registration.organization_id).subquery("registration_flags")


def migrated_organizations() -> Subquery:
    return (
        select(MigrationItem.organization_id.label("organization_id"))
        .where(MigrationItem.status == MigrationItemStatus.MIGRATED)
        .group_by(MigrationItem.organization_id)
        .subquery("migrated_organizations")
    )


def organization_flags(*, first: bool = False, names: bool = False) -> AnySelect:
    """Every organization with its country, locale and 0/1 flags for each funnel stage; with
    `first`, also when it first registered (NULL if never); with `names`, its name and account
    manager (read in the same pass over the organizations, rather than looked up per row)."""
    flags = registration_flags(first=first)
    migrated = migrated_organizations()
    return select(
        Organization.id.label("organization_id"),
        Organization.country.label("country"),
        Organization.locale.label("locale"),
        func.coalesce(flags.c.registered, 0).label("registered"),
        func.coalesce(flags.c.verified, 0).label("verified"),
        func.coalesce(flags.c.ready, 0).label("ready"),
        case((migrated.c.organization_id.is_not(None), 1), else_=0).label("migrated"),
        *([flags.c.first_at] if first else []),
        *([Organization.name, Organization.account_manager] if names else []),
    ).select_from(
        Organization.__table__.outerjoin(
            flags, flags.c.organization_id == Organization.id
        ).outerjoin(migrated, migrated.c.organization_id == Organization.id)
    )


# --- time ---


def seconds_between(session: Session, start: Any, end: Any) -> ColumnElement[float]:
    if dialect_of(session) == "postgresql":
        return cast(func.extract("epoch", end - start), Float)
    # julianday() is a float of days: round away its last bits (to the millisecond).
    return func.round((func.julianday(end) - func.julianday(start)) * 86400.0, 3)


def local_day(session: Session, column: Any, tz: ZoneInfo) -> ColumnElement[Any]:
    """The calendar day of an instant in `tz`, as the database computes it.

    PostgreSQL knows time zones. SQLite does not, so the zone's UTC offsets are written into the
    expression: one offset for zones without daylight saving (Asia/Tokyo), a CASE over the
    transition instants of the years around today for the others.
    """
    if dialect_of(session) == "postgresql":
        return cast(func.timezone(tz.key, column), Date)
    segments = _offset_segments(tz.key)
    if len(segments) == 1:
        single: ColumnElement[Any] = func.date(column, _modifier(segments[0][1]))
        return single
    # Before the instant segment i+1 starts, segment i's offset applies.
    whens = [
        (column < following, func.date(column, _modifier(offset)))
        for (_start, offset), (following, _next) in pairwise(segments)
    ]
    return case(*whens, else_=func.date(column, _modifier(segments[-1][1])))


def as_date(value: Any) -> dt.date:
    """A day as returned by `local_day` (SQLite answers with text)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def as_instant(value: Any) -> dt.datetime | None:
    """An aware UTC instant from an aggregate (min, max) over instants.

    Aggregates bypass the column type: SQLite answers with naive UTC text, PostgreSQL with an
    aware datetime.
    """
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        raise TypeError(f"not an instant: {value!r}")
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _modifier(offset_minutes: int) -> str:
    return f"{offset_minutes:+d} minutes"


@lru_cache(maxsize=8)
def _offset_segments(zone: str) -> tuple[tuple[dt.datetime, int], ...]:
    """(UTC instant from which it applies, offset in minutes), over 2015-2040, in order."""
    tz = ZoneInfo(zone)
    day = dt.timedelta(days=1)
    at = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
    segments = [(at, _minutes(tz, at))]
    while at < dt.datetime(2040, 1, 1, tzinfo=dt.UTC):
        at += day
        offset = _minutes(tz, at)
        if offset != segments[-1][1]:
            # The change happened within the last day; bisect to the minute.
            low, high = at - day, at
            while high - low > dt.timedelta(minutes=1):
                middle = low + (high - low) / 2
                if _minutes(tz, middle) == offset:
                    high = middle
                else:
                    low = middle
            segments.append((high.replace(second=0, microsecond=0), offset))
    return tuple(segments)


def _minutes(tz: ZoneInfo, at: dt.datetime) -> int:
    offset = at.astimezone(tz).utcoffset()
    assert offset is not None
    return int(offset.total_seconds() // 60)


# --- percentiles ---


@dataclass(frozen=True)
class Spread:
    count: int
    median_seconds: float | None
    p90_seconds: float | None


def spread(session: Session, durations: AnySelect) -> Spread:
    """Median and 90th percentile (nearest rank) of a one-column query of durations in seconds.

    Both databases answer with the same rows: SQLite has no percentile aggregate, so each
    percentile is the value at its rank in the ordered durations, fetched with OFFSET.
    """
    values = durations.subquery("durations")
    column = values.c[0]
    count = session.scalar(select(func.count()).select_from(values).where(column.is_not(None)))
    if not count:
        return Spread(0, None, None)

    def at_rank(q: float) -> float:
        rank = max(1, math.ceil(q * count))
        value = session.scalar(
            select(column).where(column.is_not(None)).order_by(column).offset(rank - 1).limit(1)
        )
        return float(str(value))

    return Spread(count, at_rank(0.5), at_rank(0.9))
