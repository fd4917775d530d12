"""What a simulated calendar left behind, counted from the database: the simulator's report.

Every organization ends in exactly one state, decided in this order:

* ``recovered`` — ready only thanks to the helpdesk: its verified Administrator was registered
  by an agent (source "helpdesk"), none through the portal;
* ``migrated`` — moved to individual log-ins by the login migration;
* ``ready, not migrated`` — a verified Administrator, but no migration (yet): should be zero
  once the migration has run, and the report says so when it is not;
* ``not ready`` — registered someone, but no verified Administrator;
* ``unregistered`` — never registered anyone (or only withdrew).

Every message ends in one status of the outbox; the sink's own count of what it accepted must
equal the messages sent plus those that bounced later, and its count of what it refused must
equal the messages that failed — the report checks both.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from db.enums import (
    MembershipStatus,
    MessageStatus,
    MigrationItemStatus,
    RegistrationSource,
    RegistrationStatus,
    Role,
)
from db.models import (
    HelpdeskContact,
    Membership,
    Message,
    MigrationItem,
    MigrationWave,
    Organization,
    Person,
    Registration,
)
from domain.clock import Calendar

FINAL_STATES = ("migrated", "recovered", "ready, not migrated", "not ready", "unregistered")
VERIFIED = (RegistrationStatus.VERIFIED, RegistrationStatus.MIGRATED)


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass
class Accounting:
    organizations: int
    states: dict[str, int]
    messages: dict[str, dict[str, int]]  # template -> status -> count
    message_total: int
    registrations: dict[str, int]  # status -> count
    registration_sources: dict[str, int]
    helpdesk: dict[str, dict[str, int]]  # channel -> category -> count
    helpdesk_replies: int
    helpdesk_total: int
    waves: list[dict[str, object]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)


def organization_states(session: Session) -> dict[int, str]:
    reg = Registration
    verified_admin = and_(reg.status.in_(VERIFIED), reg.role == Role.ADMINISTRATOR)
    stats = (
        select(
            reg.organization_id.label("org"),
            func.max(
                case((and_(verified_admin, reg.source == RegistrationSource.HELPDESK), 1), else_=0)
            ).label("helpdesk_admin"),
            func.max(
                case((and_(verified_admin, reg.source != RegistrationSource.HELPDESK), 1), else_=0)
            ).label("own_admin"),
            func.max(case((reg.status != RegistrationStatus.WITHDRAWN, 1), else_=0)).label("any"),
        )
        .group_by(reg.organization_id)
        .subquery()
    )
    migrated = (
        select(MigrationItem.organization_id.label("org"))
        .where(MigrationItem.status == MigrationItemStatus.MIGRATED)
        .distinct()
        .subquery()
    )
    rows = session.execute(
        select(
            Organization.id, stats.c.helpdesk_admin, stats.c.own_admin, stats.c.any, migrated.c.org
        )
        .outerjoin(stats, stats.c.org == Organization.id)
        .outerjoin(migrated, migrated.c.org == Organization.id)
    ).all()
    states: dict[int, str] = {}
    for org_id, helpdesk_admin, own_admin, registered, migrated_org in rows:
        if helpdesk_admin and not own_admin:
            states[org_id] = "recovered"
        elif migrated_org is not None:
            states[org_id] = "migrated"
        elif helpdesk_admin or own_admin:
            states[org_id] = "ready, not migrated"
        elif registered:
            states[org_id] = "not ready"
        else:
            states[org_id] = "unregistered"
    return states


def account(session: Session, *, sink_accepted: int, sink_refused: int) -> Accounting:
    states = organization_states(session)
    counted = Counter(states.values())
    messages: dict[str, dict[str, int]] = defaultdict(dict)
    for template, status, n in session.execute(
        select(Message.template, Message.status, func.count()).group_by(
            Message.template, Message.status
        )
    ):
        messages[template][status.value] = int(n)
    total = sum(sum(by.values()) for by in messages.values())
    by_status = Counter[str]()
    for by in messages.values():
        by_status.update(by)
    registrations = {
        status.value: int(n)
        for status, n in session.execute(
            select(Registration.status, func.count()).group_by(Registration.status)
        )
    }
    sources = {
        source.value: int(n)
        for source, n in session.execute(
            select(Registration.source, func.count()).group_by(Registration.source)
        )
    }
    helpdesk: dict[str, dict[str, int]] = defaultdict(dict)
    for channel, category, n in session.execute(
        select(HelpdeskContact.channel, HelpdeskContact.category, func.count())
        .where(HelpdeskContact.thread_of_id.is_(None))
        .group_by(HelpdeskContact.channel, HelpdeskContact.category)
    ):
        helpdesk[channel.value][category.value] = int(n)
    replies = int(
        session.scalar(select(func.count()).where(HelpdeskContact.thread_of_id.is_not(None))) or 0
    )
    result = Accounting(
        organizations=len(states),
        states={state: counted.get(state, 0) for state in FINAL_STATES},
        messages={t: dict(sorted(by.items())) for t, by in sorted(messages.items())},
        message_total=total,
        registrations=dict(sorted(registrations.items())),
        registration_sources=dict(sorted(sources.items())),
        helpdesk={c: dict(sorted(by.items())) for c, by in sorted(helpdesk.items())},
        helpdesk_replies=replies,
        helpdesk_total=sum(sum(by.values()) for by in helpdesk.values()) + replies,
        waves=_waves(session),
    )
    result.checks = [
        Check(
            "every organization in exactly one final state",
            sum(result.states.values()) == result.organizations,
            f"{sum(result.states.values())} states for {result.organizations} organizations",
        ),
        Check(
            "no message left in the middle of sending",
            by_status.get(MessageStatus.SENDING.value, 0) == 0,
            f"{by_status.get(MessageStatus.SENDING.value, 0)} messages still claimed",
        ),
        Check(
            "the sink received every message sent",
            sink_accepted
            == by_status.get(MessageStatus.SENT.value, 0)
            + by_status.get(MessageStatus.BOUNCED.value, 0),
            f"accepted by the sink {sink_accepted}; sent "
            f"{by_status.get(MessageStatus.SENT.value, 0)} + bounced later "
            f"{by_status.get(MessageStatus.BOUNCED.value, 0)}",
        ),
        Check(
            "every message the sink refused failed",
            sink_refused == by_status.get(MessageStatus.FAILED.value, 0),
            f"refused by the sink {sink_refused}; failed "
            f"{by_status.get(MessageStatus.FAILED.value, 0)}",
        ),
        *_migration_checks(session, states),
    ]
    return result


def _waves(session: Session) -> list[dict[str, object]]:
    waves = []
    for wave in session.scalars(select(MigrationWave).order_by(MigrationWave.position)):
        report = wave.report or {}
        waves.append(
            {
                "name": wave.name,
                "status": wave.status.value,
                "counts": report.get("counts", {}),
                "invariants": report.get("invariants", []),
            }
        )
    return waves


def _migration_checks(session: Session, states: dict[int, str]) -> list[Check]:
    migrated = [org for org, state in states.items() if state == "migrated"]
    if not migrated:
        return []
    with_admin = set(
        session.scalars(
            select(Membership.organization_id)
            .where(
                Membership.role == Role.ADMINISTRATOR,
                Membership.status == MembershipStatus.ACTIVE,
            )
            .distinct()
        )
    )
    # The migration moves an organization whose only verified people are not Administrators,
    # and says so on its item: that is an explained absence, not a broken invariant.
    explained = set(
        session.scalars(
            select(MigrationItem.organization_id).where(
                MigrationItem.status == MigrationItemStatus.MIGRATED,
                MigrationItem.reason.is_not(None),
            )
        )
    )
    still_legacy = int(
        session.scalar(
            select(func.count()).where(
                Organization.id.in_(migrated), Organization.legacy_login_enabled.is_(True)
            )
        )
        or 0
    )
    duplicate_people = int(
        session.scalar(
            select(func.count()).select_from(
                select(func.lower(Person.email))
                .group_by(func.lower(Person.email))
                .having(func.count() > 1)
                .subquery()
            )
        )
        or 0
    )
    missing_admin = [org for org in migrated if org not in with_admin and org not in explained]
    without_admin = [org for org in migrated if org not in with_admin]
    checks = [
        Check(
            "every migrated organization has an active Administrator, or its item says why",
            not missing_admin,
            f"{len(migrated) - len(without_admin)} of {len(migrated)} have one; "
            f"{len(without_admin) - len(missing_admin)} registered no Administrator (recorded); "
            f"{len(missing_admin)} unexplained",
        ),
        Check(
            "migrated organizations no longer log in with the shared ID",
            still_legacy == 0,
            f"{still_legacy} still could",
        ),
        Check(
            "one account per address", duplicate_people == 0, f"{duplicate_people} addresses twice"
        ),
    ]
    for wave in _waves(session):
        for invariant in wave["invariants"]:  # type: ignore[attr-defined]
            checks.append(
                Check(
                    f"wave {wave['name']}: {invariant['name']}",
                    bool(invariant["passed"]),
                    str(invariant["detail"]),
                )
            )
    return checks


@dataclass(frozen=True)
class Day:
    date: dt.date
    submitted: int
    verified: int
    ready_organizations: int  # cumulative, at the end of the day


def registration_curve(
    session: Session, calendar: Calendar, first: dt.date, last: dt.date
) -> list[Day]:
    """Per local day: registrations submitted, verified, and organizations ready so far."""
    submitted: Counter[dt.date] = Counter()
    verified: Counter[dt.date] = Counter()
    first_ready: dict[int, dt.date] = {}
    for org, role, sub_at, ver_at in session.execute(
        select(
            Registration.organization_id,
            Registration.role,
            Registration.submitted_at,
            Registration.verified_at,
        )
    ):
        submitted[calendar.local_date(sub_at)] += 1
        if ver_at is not None:
            day = calendar.local_date(ver_at)
            verified[day] += 1
            if role is Role.ADMINISTRATOR and (org not in first_ready or day < first_ready[org]):
                first_ready[org] = day
    ready_on = Counter(first_ready.values())
    days: list[Day] = []
    ready = sum(n for day, n in ready_on.items() if day < first)
    day = first
    while day <= last:
        ready += ready_on.get(day, 0)
        days.append(Day(day, submitted.get(day, 0), verified.get(day, 0), ready))
        day += dt.timedelta(days=1)
    return days
