"""The Organizations page: a filtered, paged list, and everything about one organization.

Tables come back as lists of plain dicts (column name -> value) so the dashboard can cache them
and hand them to a data grid as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from db.dashboard.common import (
    CONFIRMED,
    AnySelect,
    Stage,
    has_registration,
    stage_condition,
    stage_of,
)
from db.enums import RegistrationStatus, Role
from db.models import (
    AuditEvent,
    HelpdeskContact,
    Message,
    MigrationItem,
    MigrationWave,
    Organization,
    OrganizationContact,
    OrganizationDomain,
    Registration,
    Service,
    ServiceSubscription,
)

Rows = list[dict[str, Any]]
PAGE_SIZE = 200
DETAIL_LIMIT = 200  # messages, audit events: the newest this many


class AdministratorFilter(StrEnum):
    ANY = "any"
    VERIFIED = "verified"  # a confirmed Administrator: the organization is ready
    PENDING = "pending"  # an Administrator registered, not confirmed yet
    NONE = "none"  # no Administrator registered at all


@dataclass(frozen=True)
class OrganizationFilter:
    search: str = ""
    stages: tuple[Stage, ...] = ()
    countries: tuple[str, ...] = ()
    service: str | None = None  # a service code
    administrator: AdministratorFilter = AdministratorFilter.ANY


@dataclass(frozen=True)
class OrganizationPage:
    rows: Rows
    total: int  # organizations matching the filter, all pages
    offset: int
    limit: int


@dataclass(frozen=True)
class OrganizationDetail:
    facts: dict[str, Any]
    domains: list[str]
    services: Rows
    contacts: Rows
    registrations: Rows
    messages: Rows
    message_count: int
    helpdesk: Rows
    migration: Rows
    audit: Rows = field(default_factory=list)


_LIVE_ADMIN = (RegistrationStatus.PENDING, *CONFIRMED)


def _conditions(flt: OrganizationFilter) -> list[ColumnElement[bool]]:
    org_id = Organization.id
    conditions: list[ColumnElement[bool]] = []
    text = " ".join(flt.search.split())
    if text:
        wanted = text.casefold()
        conditions.append(
            or_(
                func.lower(Organization.name).contains(wanted, autoescape=True),
                func.lower(Organization.name_local).contains(wanted, autoescape=True),
                func.lower(Organization.legacy_login_id).contains(wanted, autoescape=True),
                # An address of the organization, as typed by someone who asks about it.
                exists().where(
                    OrganizationDomain.organization_id == org_id,
                    OrganizationDomain.domain == wanted.rpartition("@")[2],
                ),
            )
        )
    if flt.stages:
        conditions.append(or_(*(stage_condition(org_id, stage) for stage in flt.stages)))
    if flt.countries:
        conditions.append(Organization.country.in_(flt.countries))
    if flt.service:
        conditions.append(
            exists().where(
                ServiceSubscription.organization_id == org_id,
                ServiceSubscription.service_id == Service.id,
                Service.code == flt.service,
            )
        )
    admin_confirmed = has_registration(org_id, CONFIRMED, Role.ADMINISTRATOR)
    admin_live = has_registration(org_id, _LIVE_ADMIN, Role.ADMINISTRATOR)
    if flt.administrator is AdministratorFilter.VERIFIED:
        conditions.append(admin_confirmed)
    elif flt.administrator is AdministratorFilter.PENDING:
        conditions.append(and_(admin_live, ~admin_confirmed))
    elif flt.administrator is AdministratorFilter.NONE:
        conditions.append(~admin_live)
    return conditions


def list_organizations(
    session: Session, flt: OrganizationFilter, *, offset: int = 0, limit: int = PAGE_SIZE
) -> OrganizationPage:
    """One page of matching organizations (by name), each with its stage and registrations."""
    conditions = _conditions(flt)
    total = int(
        session.scalar(select(func.count()).select_from(Organization).where(*conditions)) or 0
    )
    # Pick the page first, then compute the per-organization facts for those rows only.
    page = (
        select(Organization.id)
        .where(*conditions)
        .order_by(Organization.name, Organization.id)
        .offset(max(offset, 0))
        .limit(limit)
        .subquery("page")
    )
    live = (
        select(func.count())
        .where(
            Registration.organization_id == Organization.id,
            Registration.status.in_(_LIVE_ADMIN),
        )
        .correlate(Organization)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Organization.id.label("id"),
            Organization.legacy_login_id.label("login_id"),
            Organization.name.label("name"),
            Organization.name_local.label("name_local"),
            Organization.country.label("country"),
            Organization.locale.label("locale"),
            stage_of(Organization.id).label("stage"),
            live.label("registrations"),
            Organization.account_manager.label("account_manager"),
            Organization.legacy_login_enabled.label("legacy_login"),
        )
        .join(page, page.c.id == Organization.id)
        .order_by(Organization.name, Organization.id)
    ).mappings()
    return OrganizationPage(
        rows=[_plain(row) for row in rows], total=total, offset=offset, limit=limit
    )


def filter_options(session: Session) -> tuple[list[str], list[tuple[str, str]]]:
    """Countries present, and (code, name) of services, pre-registration services first."""
    countries = list(
        session.scalars(select(Organization.country).distinct().order_by(Organization.country))
    )
    services = [
        (code, name)
        for code, name in session.execute(
            select(Service.code, Service.name).order_by(
                Service.requires_preregistration.desc(), Service.name
            )
        )
    ]
    return countries, services


def find_organization_id(session: Session, login_id: str) -> int | None:
    return session.scalar(
        select(Organization.id).where(
            func.lower(Organization.legacy_login_id) == login_id.strip().lower()
        )
    )


def organization_detail(session: Session, organization_id: int) -> OrganizationDetail | None:
    org = session.get(Organization, organization_id)
    if org is None:
        return None
    oid = organization_id
    facts = {
        "id": org.id,
        "login_id": org.legacy_login_id,
        "name": org.name,
        "name_local": org.name_local,
        "country": org.country,
        "locale": org.locale.value,
        "stage": session.scalar(select(stage_of(Organization.id)).where(Organization.id == oid)),
        "account_manager": org.account_manager,
        "phone": org.phone,
        "legacy_login_enabled": org.legacy_login_enabled,
        "legacy_login_disabled_at": org.legacy_login_disabled_at,
        "created_at": org.created_at,
    }
    return OrganizationDetail(
        facts=facts,
        domains=list(
            session.scalars(
                select(OrganizationDomain.domain)
                .where(OrganizationDomain.organization_id == oid)
                .order_by(OrganizationDomain.domain)
            )
        ),
        services=_rows(
            session,
            select(
                Service.code.label("code"),
                Service.name.label("service"),
                Service.requires_preregistration.label("requires_preregistration"),
                ServiceSubscription.since.label("since"),
            )
            .join(Service, Service.id == ServiceSubscription.service_id)
            .where(ServiceSubscription.organization_id == oid)
            .order_by(Service.requires_preregistration.desc(), Service.name),
        ),
        contacts=_rows(
            session,
            select(
                OrganizationContact.kind.label("kind"),
                OrganizationContact.name.label("name"),
                OrganizationContact.email.label("email"),
                OrganizationContact.email_bounced_at.label("bounced_at"),
            )
            .where(OrganizationContact.organization_id == oid)
            .order_by(OrganizationContact.kind, OrganizationContact.email),
        ),
        registrations=_rows(
            session,
            select(
                Registration.name.label("name"),
                Registration.email_display.label("email"),
                Registration.role.label("role"),
                Registration.status.label("status"),
                Registration.submitted_at.label("submitted_at"),
                Registration.verified_at.label("verified_at"),
                Registration.source.label("source"),
                func.coalesce(Registration.bounce_reason, Registration.undeliverable_reason).label(
                    "problem"
                ),
            )
            .where(Registration.organization_id == oid)
            .order_by(Registration.submitted_at.desc(), Registration.id.desc()),
        ),
        messages=_rows(
            session,
            select(
                Message.created_at.label("queued_at"),
                Message.template.label("template"),
                Message.campaign_step.label("step"),
                Message.to_address.label("to"),
                Message.status.label("status"),
                Message.sent_at.label("sent_at"),
                Message.subject.label("subject"),
                Message.last_error.label("error"),
            )
            .where(Message.organization_id == oid)
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(DETAIL_LIMIT),
        ),
        message_count=int(
            session.scalar(
                select(func.count()).select_from(Message).where(Message.organization_id == oid)
            )
            or 0
        ),
        helpdesk=_rows(
            session,
            select(
                HelpdeskContact.id.label("id"),
                HelpdeskContact.received_at.label("received_at"),
                HelpdeskContact.channel.label("channel"),
                HelpdeskContact.category.label("category"),
                HelpdeskContact.status.label("status"),
                HelpdeskContact.sender_email.label("from"),
                HelpdeskContact.subject.label("subject"),
            )
            .where(HelpdeskContact.organization_id == oid)
            .order_by(HelpdeskContact.received_at.desc()),
        ),
        migration=_rows(
            session,
            select(
                MigrationWave.name.label("wave"),
                MigrationWave.status.label("wave_status"),
                MigrationItem.status.label("status"),
                MigrationItem.reason.label("reason"),
                MigrationItem.updated_at.label("updated_at"),
            )
            .join(MigrationWave, MigrationWave.id == MigrationItem.wave_id)
            .where(MigrationItem.organization_id == oid)
            .order_by(MigrationWave.position, MigrationItem.updated_at),
        ),
        audit=_rows(
            session,
            select(
                AuditEvent.occurred_at.label("at"),
                AuditEvent.actor.label("actor"),
                AuditEvent.action.label("action"),
                AuditEvent.entity_type.label("entity"),
                AuditEvent.entity_id.label("entity_id"),
            )
            .where(AuditEvent.organization_id == oid)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(DETAIL_LIMIT),
        ),
    )


def _rows(session: Session, query: AnySelect) -> Rows:
    return [_plain(row) for row in session.execute(query).mappings()]


def _plain(row: Any) -> dict[str, Any]:
    # Enum members become their values: what a table shows and what pickles across versions.
    return {key: getattr(value, "value", value) for key, value in dict(row).items()}
