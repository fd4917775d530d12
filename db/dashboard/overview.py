"""Figures of the Overview page: the funnel, its breakdowns, and registrations per day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, func, literal, select, union_all
from sqlalchemy.orm import Session

from db.dashboard.common import as_date, local_day, organization_flags
from db.models import Organization, Registration, Service, ServiceSubscription


@dataclass(frozen=True)
class Funnel:
    """Organizations of one group (everyone, a country, a service...) at each stage or beyond."""

    key: str
    organizations: int
    registered: int
    verified: int
    ready: int
    migrated: int
    label: str = ""
    requires_preregistration: bool = False

    @classmethod
    def of(cls, key: str, label: str, counts: Sequence[Any], *, required: bool = False) -> Funnel:
        """From (organizations, registered, verified, ready, migrated), as the database says."""
        n = [int(c or 0) for c in counts]
        return cls(key, n[0], n[1], n[2], n[3], n[4], label, required)

    @property
    def ready_share(self) -> float:
        return self.ready / self.organizations if self.organizations else 0.0

    @property
    def registered_share(self) -> float:
        return self.registered / self.organizations if self.organizations else 0.0


@dataclass(frozen=True)
class DailyRegistrations:
    day: dt.date
    registrations: int  # submitted that day, whatever became of them
    new_organizations: int  # organizations whose first registration was that day


@dataclass(frozen=True)
class Overview:
    total: Funnel
    by_country: tuple[Funnel, ...]  # largest first
    by_locale: tuple[Funnel, ...]
    by_service: tuple[Funnel, ...]  # services that require pre-registration first
    daily: tuple[DailyRegistrations, ...] = ()  # local days in order


def overview(session: Session, tz: ZoneInfo) -> Overview:
    """The funnel for everyone, by country, by locale and by service, and registrations per
    local day of `tz`, in two statements.

    The per-organization flags are the expensive part (a pass over all registrations); they
    are computed once, as a materialized common table, and grouped three ways from there: by
    country and locale, by service, and by the day of each organization's first registration.
    The second statement counts the registrations submitted each day.
    """
    flags = organization_flags(first=True).cte("flags").prefix_with("MATERIALIZED")
    sums = (
        func.count(),
        func.sum(flags.c.registered),
        func.sum(flags.c.verified),
        func.sum(flags.c.ready),
        func.sum(flags.c.migrated),
    )
    by_place = select(
        literal("place").label("kind"),
        flags.c.country.label("first"),
        cast(flags.c.locale, String).label("second"),
        *sums,
    ).group_by(flags.c.country, flags.c.locale)
    by_subscription = (
        select(
            literal("service").label("kind"),
            cast(ServiceSubscription.service_id, String).label("first"),
            literal(None, String).label("second"),
            *sums,
        )
        .select_from(ServiceSubscription)
        .join(flags, flags.c.organization_id == ServiceSubscription.organization_id)
        .group_by(ServiceSubscription.service_id)
    )
    first_day = local_day(session, flags.c.first_at, tz)
    by_first_day = (
        select(
            literal("first").label("kind"),
            cast(first_day, String).label("first"),
            literal(None, String).label("second"),
            func.count(),
            *(literal(0) for _ in range(4)),
        )
        .where(flags.c.first_at.is_not(None))
        .group_by(first_day)
    )
    countries: dict[str, list[int]] = {}
    locales: dict[str, list[int]] = {}
    services: dict[int, list[int]] = {}
    firsts: dict[dt.date, int] = {}
    totals = [0, 0, 0, 0, 0]
    rows: Any = session.execute(union_all(by_place, by_subscription, by_first_day))
    for kind, first, second, *counts in rows:
        numbers = [int(n or 0) for n in counts]
        if kind == "service":
            services[int(first)] = numbers
            continue
        if kind == "first":
            firsts[as_date(first)] = numbers[0]
            continue
        # A few dozen (country, locale) groups: adding them up here avoids more passes.
        for bucket in (
            countries.setdefault(first, [0] * 5),
            locales.setdefault(str(second), [0] * 5),
            totals,
        ):
            for i, n in enumerate(numbers):
                bucket[i] += n
    by_country = sorted(
        (Funnel.of(key, key, numbers) for key, numbers in countries.items()),
        key=lambda f: (-f.organizations, f.key),
    )
    by_locale = sorted(
        (Funnel.of(key, _LOCALE_LABELS.get(key, key), numbers) for key, numbers in locales.items()),
        key=lambda f: (-f.organizations, f.key),
    )
    catalogue = session.execute(
        select(Service.id, Service.code, Service.name, Service.requires_preregistration)
    ).all()
    by_service = sorted(
        (
            Funnel.of(code, name, services[sid], required=bool(required))
            for sid, code, name, required in catalogue
            if sid in services
        ),
        key=lambda f: (not f.requires_preregistration, -f.organizations, f.key),
    )
    day = local_day(session, Registration.submitted_at, tz)
    submitted = {
        as_date(d): int(n)
        for d, n in session.execute(select(day.label("day"), func.count()).group_by(day))
    }
    daily = tuple(
        DailyRegistrations(d, submitted.get(d, 0), firsts.get(d, 0))
        for d in sorted({*submitted, *firsts})
    )
    return Overview(
        total=Funnel.of("all", "All organizations", totals),
        by_country=tuple(by_country),
        by_locale=tuple(by_locale),
        by_service=tuple(by_service),
        daily=daily,
    )


_LOCALE_LABELS = {"en": "English", "ja": "Japanese"}


def registrations_per_day(session: Session, tz: ZoneInfo) -> list[DailyRegistrations]:
    """Registrations submitted per local day, with the organizations that registered first."""
    return list(overview(session, tz).daily)


def organization_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Organization)) or 0)
