"""The dashboard's figures, each checked against a plain SQL count of the same thing."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import literal, literal_column, select, text
from sqlalchemy.orm import Session

from db.dashboard import campaigns, followup, helpdesk, migration, organizations, overview
from db.dashboard.common import Stage, as_date, local_day, spread
from db.models import Registration
from db.types import UTCDateTime
from domain.context import App
from domain.emails.catalog import FOLLOWUP_STEPS
from tests.dashboard.world import World

TOKYO = ZoneInfo("Asia/Tokyo")


def count(session: Session, sql: str) -> int:
    return int(session.execute(text(sql)).scalar_one())


READY_SQL = (
    "SELECT count(DISTINCT organization_id) FROM registrations "
    "WHERE role = 'administrator' AND status IN ('verified', 'migrated')"
)


def test_the_funnel_matches_sql_counts(session: Session, world: World) -> None:
    figures = overview.overview(session, TOKYO)
    total = figures.total
    assert total.organizations == count(session, "SELECT count(*) FROM organizations") == 40
    assert total.registered == count(
        session,
        "SELECT count(DISTINCT organization_id) FROM registrations WHERE status <> 'withdrawn'",
    )
    assert total.verified == count(
        session,
        "SELECT count(DISTINCT organization_id) FROM registrations "
        "WHERE status IN ('verified', 'migrated')",
    )
    assert total.ready == count(session, READY_SQL) == 10
    assert total.migrated == count(
        session,
        "SELECT count(DISTINCT organization_id) FROM migration_items WHERE status = 'migrated'",
    )
    assert sum(c.organizations for c in figures.by_country) == total.organizations
    assert sum(c.ready for c in figures.by_locale) == total.ready
    for country in figures.by_country:
        assert country.organizations == count(
            session, f"SELECT count(*) FROM organizations WHERE country = '{country.key}'"
        )
    services = {s.key: s for s in figures.by_service}
    required = [s.requires_preregistration for s in figures.by_service]
    assert required == sorted(required, reverse=True), "pre-registration services come first"
    for code, funnel in services.items():
        assert funnel.organizations == count(
            session,
            "SELECT count(*) FROM service_subscriptions s JOIN services v ON v.id = s.service_id "
            f"WHERE v.code = '{code}'",
        )


def test_registrations_per_day_are_counted_on_tokyo_days(session: Session, world: World) -> None:
    daily = overview.registrations_per_day(session, TOKYO)
    assert sum(d.registrations for d in daily) == count(
        session, "SELECT count(*) FROM registrations"
    )
    assert sum(d.new_organizations for d in daily) == count(
        session, "SELECT count(DISTINCT organization_id) FROM registrations"
    )
    submitted = session.scalars(select(Registration.submitted_at)).all()
    expected: dict[dt.date, int] = {}
    for moment in submitted:
        day = moment.astimezone(TOKYO).date()
        expected[day] = expected.get(day, 0) + 1
    assert {d.day: d.registrations for d in daily} == expected


@pytest.mark.parametrize(
    ("zone", "instant", "day"),
    [
        # 23:30 UTC is the next morning in Tokyo.
        ("Asia/Tokyo", dt.datetime(2025, 6, 30, 23, 30, tzinfo=dt.UTC), dt.date(2025, 7, 1)),
        # Berlin in summer is UTC+2, in winter UTC+1: the same UTC hour falls on different days.
        ("Europe/Berlin", dt.datetime(2025, 7, 1, 22, 30, tzinfo=dt.UTC), dt.date(2025, 7, 2)),
        ("Europe/Berlin", dt.datetime(2025, 1, 1, 22, 30, tzinfo=dt.UTC), dt.date(2025, 1, 1)),
        ("Europe/Berlin", dt.datetime(2025, 3, 30, 0, 59, tzinfo=dt.UTC), dt.date(2025, 3, 30)),
        ("America/New_York", dt.datetime(2025, 11, 2, 4, 30, tzinfo=dt.UTC), dt.date(2025, 11, 2)),
        ("America/New_York", dt.datetime(2025, 11, 2, 3, 30, tzinfo=dt.UTC), dt.date(2025, 11, 1)),
    ],
)
def test_local_day_follows_the_zone_and_daylight_saving(
    session: Session, zone: str, instant: dt.datetime, day: dt.date
) -> None:
    moment = literal(instant, UTCDateTime())
    computed = session.scalar(select(local_day(session, moment, ZoneInfo(zone))))
    assert as_date(computed) == day == instant.astimezone(ZoneInfo(zone)).date()


def test_spread_is_nearest_rank(session: Session) -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0, 10.0, 8.0, 6.0, 9.0, 7.0]
    rows = " UNION ALL ".join(f"SELECT {v} AS seconds" for v in values)
    result = spread(session, select(literal_column("seconds")).select_from(text(f"({rows}) AS d")))
    assert (result.count, result.median_seconds, result.p90_seconds) == (10, 5.0, 9.0)
    nothing = spread(
        session,
        select(literal_column("seconds")).select_from(
            text("(SELECT 1.0 AS seconds) AS d WHERE 1 = 0")
        ),
    )
    assert nothing.count == 0 and nothing.median_seconds is None


def test_organization_filters(session: Session, world: World) -> None:
    ready = organizations.list_organizations(
        session, organizations.OrganizationFilter(stages=(Stage.READY,))
    )
    # Ready and not migrated: ten ready, four of them migrated.
    assert ready.total == count(session, READY_SQL) - 4 == 6
    assert {r["stage"] for r in ready.rows} == {Stage.READY.value}
    found = organizations.list_organizations(
        session, organizations.OrganizationFilter(search=world.japanese_name[:3])
    )
    assert world.japanese_name in {r["name_local"] for r in found.rows}
    none = organizations.list_organizations(
        session,
        organizations.OrganizationFilter(administrator=organizations.AdministratorFilter.NONE),
    )
    assert none.total == count(
        session,
        "SELECT count(*) FROM organizations o WHERE NOT EXISTS (SELECT 1 FROM registrations r "
        "WHERE r.organization_id = o.id AND r.role = 'administrator' "
        "AND r.status IN ('pending', 'verified', 'migrated'))",
    )
    page = organizations.list_organizations(
        session, organizations.OrganizationFilter(), offset=30, limit=20
    )
    assert (page.total, len(page.rows)) == (40, 10)
    percent = organizations.list_organizations(
        session, organizations.OrganizationFilter(search="%")
    )
    assert percent.total == 0, "wildcards in the search are taken literally"


def test_organization_detail(session: Session, world: World) -> None:
    detail = organizations.organization_detail(session, world.organization_ids[0])
    assert detail is not None
    assert detail.facts["stage"] == Stage.MIGRATED.value
    assert [r["status"] for r in detail.registrations] == ["verified"]
    assert detail.message_count == 2  # the announcement and a verification link
    assert {m["template"] for m in detail.messages} == {"announcement", "verification"}
    assert [m["wave"] for m in detail.migration] == ["canary"]
    assert organizations.organization_detail(session, 10**9) is None


def test_campaign_steps(session: Session, world: World) -> None:
    steps = {s.delivery.key: s for s in campaigns.campaign_steps(session)}
    assert list(steps) == ["T-90", "T-75", "followup:close_plus_1", "followup:close_plus_7"]
    t90 = steps["T-90"].delivery
    assert (t90.sent, t90.failed, t90.bounced, t90.queued) == (35, 2, 3, 0)
    assert t90.organizations == 40
    t75 = steps["T-75"].delivery
    assert t75.queued == count(
        session,
        "SELECT count(*) FROM messages WHERE campaign_step = 'T-75' AND status = 'queued'",
    )
    # Registrations from 15 June 10:00 (the T-90 step went out at 09:00) to 22 June 09:00.
    assert steps["T-90"].registrations_after == count(
        session,
        "SELECT count(*) FROM registrations WHERE submitted_at < "
        + (
            "'2025-06-22 00:00:00'"
            if session.get_bind().dialect.name == "sqlite"
            else "'2025-06-22 00:00:00+00'"
        ),
    )
    assert steps["T-75"].organizations_after == 0 or steps["T-75"].organizations_after <= 22
    other = {d.template: d for d in campaigns.transactional(session)}
    assert other["verification"].sent == 5
    assert "helpdesk_acknowledgement" not in other  # record_contact alone queues nothing


def test_migration(session: Session, world: World) -> None:
    waves = {w.name: w for w in migration.waves(session)}
    assert list(waves) == ["canary", "wave-1", "wave-2"]
    assert waves["canary"].counts["migrated"] == 4
    assert waves["canary"].progress == 1.0
    assert waves["wave-1"].progress == 0.0
    assert migration.failure_reasons(session) == [("no verified Administrator", 2)]
    assert len(migration.failures(session)) == 2
    checks = migration.invariants(list(waves.values()))
    assert [(c.check, c.passed) for c in checks] == [
        ("usage history unchanged", True),
        ("one person per address", False),
    ]
    history = migration.rollback_history(session)
    assert [h["action"] for h in history] == ["migration.wave_rolled_back"]


def test_followup(session: Session, world: World) -> None:
    summary = followup.escalation_summary(session, FOLLOWUP_STEPS)
    not_ready = count(
        session,
        "SELECT count(*) FROM organizations o WHERE NOT EXISTS (SELECT 1 FROM registrations r "
        "WHERE r.organization_id = o.id AND r.role = 'administrator' "
        "AND r.status IN ('verified', 'migrated')) AND NOT EXISTS (SELECT 1 FROM migration_items "
        "m WHERE m.organization_id = o.id AND m.status = 'migrated')",
    )
    assert sum(c.organizations for c in summary) == not_ready == 30
    levels = {(c.segment, c.level): c.organizations for c in summary}
    assert levels[(followup.Segment.NEVER_REGISTERED, 2)] == 2  # close_plus_7 reached
    assert levels[(followup.Segment.NEVER_REGISTERED, 1)] == 2
    assert levels[(followup.Segment.NO_VERIFIED_ADMIN, 0)] == 8
    everyone = followup.call_list(session, FOLLOWUP_STEPS, followup.CallListFilter(), limit=None)
    assert everyone.total == len(everyone.rows) == not_ready
    assert [r["level"] for r in everyone.rows[:2]] == [2, 2], "furthest escalated first"
    only = followup.call_list(
        session,
        FOLLOWUP_STEPS,
        followup.CallListFilter(segments=(followup.Segment.NOTHING_VERIFIED,)),
    )
    assert only.total == 8  # administrators registered, none verified
    # One statement gives both: the summary of everyone, the call list of those the filter keeps
    # (in the order of the whole list), a page of them at a time.
    page = followup.followup_page(
        session,
        FOLLOWUP_STEPS,
        followup.CallListFilter(segments=(followup.Segment.NOTHING_VERIFIED,)),
        limit=3,
    )
    assert page.summary == summary
    assert page.call_list.total == 8
    kept = [r for r in everyone.rows if r["segment"] == followup.Segment.NOTHING_VERIFIED]
    assert page.call_list.rows == kept[:3] == only.rows[:3]
    assert (
        followup.call_list(session, FOLLOWUP_STEPS, followup.CallListFilter(), limit=5).rows
        == (everyone.rows[:5])
    )
    assert followup.level_label(2, FOLLOWUP_STEPS) == "close_plus_7"
    assert followup.level_label(0, FOLLOWUP_STEPS, emails=1).startswith("Follow-up sent")


def test_helpdesk(session: Session, world: World, app: App) -> None:
    backlog = helpdesk.backlog(session, app.clock.now())
    assert backlog.total == count(
        session,
        "SELECT count(*) FROM helpdesk_contacts "
        "WHERE status IN ('new', 'open', 'waiting_on_customer')",
    )
    assert dict(backlog.by_age) == {
        "< 1 day": 1,  # received 30 June 10:00, 23 hours before 1 July 09:00
        "1–2 days": 1,  # 29 June
        "2–5 days": 1,  # 27 June
        "5–10 days": 2,  # 24 and 21 June (9 days 23 hours)
        "> 10 days": 0,  # 20 June was resolved
    }
    times = helpdesk.response_times(session)
    assert (times.first_response.count, times.first_response.median_seconds) == (2, 7200.0)
    assert times.first_response.p90_seconds == 6 * 3600.0
    assert (times.resolution.count, times.resolution.median_seconds) == (1, 86400.0)
    daily = helpdesk.per_day(session, TOKYO)
    assert daily.total == sum(d.contacts for d in daily.by_category) == 6
    per_channel_day: Counter[dt.date] = Counter()
    per_category_day: Counter[dt.date] = Counter()
    for d in daily.by_channel:
        per_channel_day[d.day] += d.contacts
    for d in daily.by_category:
        per_category_day[d.day] += d.contacts
    assert per_channel_day == per_category_day  # two views of the same requests
    rows, total = helpdesk.list_contacts(
        session, helpdesk.ContactFilter(search=world.japanese_name)
    )
    assert total == len(rows) == 6
    assert helpdesk.contact_detail(session, 10**9) is None


def test_helpdesk_replies_belong_to_their_request(session: Session, world: World, app: App) -> None:
    from db.enums import HelpdeskChannel, HelpdeskStatus
    from db.models import HelpdeskContact

    before_total = helpdesk.backlog(session, app.clock.now()).total
    before_days = helpdesk.per_day(session, TOKYO).total
    root = session.scalars(
        select(HelpdeskContact).where(HelpdeskContact.status == HelpdeskStatus.NEW)
    ).first()
    assert root is not None
    session.add(
        HelpdeskContact(
            channel=HelpdeskChannel.MAILBOX,
            received_at=app.clock.now(),
            sender_email=root.sender_email,
            body="Re: any news?",
            status=HelpdeskStatus.NEW,
            thread_of_id=root.id,
        )
    )
    session.flush()
    assert helpdesk.backlog(session, app.clock.now()).total == before_total
    assert helpdesk.per_day(session, TOKYO).total == before_days
    session.rollback()
