"""Figures of the Overview page: the funnel, its breakdowns, and registrations per day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
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


def overview(session: Session) -> Overview:
    """The funnel for everyone, by country and by locale (one pass), and by service."""
    flags = organization_flags().subquery("flags")
    rows = session.execute(
        select(
            flags.c.country,
            flags.c.locale,
            func.count(),
            func.sum(flags.c.registered),
            func.sum(flags.c.verified),
            func.sum(flags.c.ready),
            func.sum(flags.c.migrated),
        ).group_by(flags.c.country, flags.c.locale)
    ).all()
    # A few dozen (country, locale) groups: adding them up here avoids three more passes.
    countries: dict[str, list[int]] = {}
    locales: dict[str, list[int]] = {}
    totals = [0, 0, 0, 0, 0]
    for country, locale, *counts in rows:
        numbers = [int(n or 0) for n in counts]
        for bucket in (
            countries.setdefault(country, [0] * 5),
            locales.setdefault(str(locale), [0] * 5),
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
    return Overview(
        total=Funnel.of("all", "All organizations", totals),
        by_country=tuple(by_country),
        by_locale=tuple(by_locale),
        by_service=tuple(by_service(session)),
    )


_LOCALE_LABELS = {"en": "English", "ja": "Japanese"}


def by_service(session: Session) -> list[Funnel]:
    flags = organization_flags().subquery("flags")
    rows = session.execute(
        select(
            Service.code,
            Service.name,
            Service.requires_preregistration,
            func.count(),
            func.sum(flags.c.registered),
            func.sum(flags.c.verified),
            func.sum(flags.c.ready),
            func.sum(flags.c.migrated),
        )
        .select_from(ServiceSubscription)
        .join(Service, Service.id == ServiceSubscription.service_id)
        .join(flags, flags.c.organization_id == ServiceSubscription.organization_id)
        .group_by(Service.id, Service.code, Service.name, Service.requires_preregistration)
        .order_by(Service.requires_preregistration.desc(), func.count().desc(), Service.code)
    ).all()
    return [
        Funnel.of(code, name, counts, required=bool(required))
        for code, name, required, *counts in rows
    ]


def registrations_per_day(session: Session, tz: ZoneInfo) -> list[DailyRegistrations]:
    """Registrations submitted per local day, with the organizations that registered first."""
    day = local_day(session, Registration.submitted_at, tz).label("day")
    submitted: dict[object, int] = dict(
        session.execute(select(day, func.count()).group_by(day)).all()
    )
    first = (
        select(func.min(Registration.submitted_at).label("first_at"))
        .group_by(Registration.organization_id)
        .subquery("first_registrations")
    )
    first_day = local_day(session, first.c.first_at, tz).label("day")
    firsts: dict[object, int] = dict(
        session.execute(select(first_day, func.count()).group_by(first_day)).all()
    )
    days = sorted({as_date(d) for d in (*submitted, *firsts)})
    by_day = {as_date(d): n for d, n in submitted.items()}
    first_by_day = {as_date(d): n for d, n in firsts.items()}
    return [DailyRegistrations(d, by_day.get(d, 0), first_by_day.get(d, 0)) for d in days]


def organization_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Organization)) or 0)
