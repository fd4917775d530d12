"""Small worlds for the migration tests: organizations, verified registrations, service history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.enums import Locale, MigrationItemStatus, RegistrationStatus, Role
from db.models import (
    Organization,
    Registration,
    Service,
    ServiceSubscription,
    ServiceUsage,
)
from domain.context import App
from domain.migration.activation_mail import ActivationRenderer
from domain.migration.batch import BatchResult, item_ranges, migrate_range
from domain.migration.waves import TO_DO
from tests import factories

ACTOR = "flow:test"


def organization(
    app: App, session: Session, name: str, *, locale: Locale = Locale.EN, usage: bool = True
) -> Organization:
    org = factories.organization(session, app.clock, name=name, locale=locale)
    if usage:
        service = session.scalars(select(Service).where(Service.code == "SURVEY")).first()
        if service is None:
            service = Service(
                code="SURVEY",
                name="Survey Booking",
                name_ja="検査申込",
                requires_preregistration=True,
            )
            session.add(service)
            session.flush()
        session.add(
            ServiceSubscription(
                organization_id=org.id, service_id=service.id, since=dt.date(2019, 4, 1)
            )
        )
        for month in (1, 2, 3):
            session.add(
                ServiceUsage(
                    organization_id=org.id,
                    service_id=service.id,
                    month=dt.date(2025, month, 1),
                    uses=org.id * 10 + month,
                )
            )
    session.flush()
    return org


def verified(
    app: App,
    session: Session,
    org: Organization,
    email: str,
    role: Role = Role.NORMAL,
    name: str = "Taro Yamada",
) -> Registration:
    registration = factories.registration(
        session, app.clock, app.calendar, org, email, role=role, name=name
    )
    registration.status = RegistrationStatus.VERIFIED
    registration.verified_at = app.clock.now()
    session.flush()
    return registration


def usage_totals(session: Session) -> tuple[int, int]:
    rows, total = session.execute(
        select(func.count(), func.coalesce(func.sum(ServiceUsage.uses), 0))
    ).one()
    return int(rows), int(total)


def run_wave(
    app: App,
    wave_id: int,
    batch_size: int = 100,
    statuses: Sequence[MigrationItemStatus] = TO_DO,
) -> BatchResult:
    renderer = ActivationRenderer(app.settings)
    with app.sessions() as session:
        ranges = item_ranges(session, wave_id, statuses, batch_size)
    result = BatchResult()
    for first, last in ranges:
        result.merge(migrate_range(app, wave_id, first, last, statuses, renderer, actor=ACTOR))
    return result
