"""Migrating organizations: accounts, memberships, legacy log-ins, activation emails, invariants."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from db.enums import (
    Locale,
    MembershipStatus,
    MigrationItemStatus,
    PersonStatus,
    RegistrationStatus,
    Role,
    TokenPurpose,
    WaveStatus,
)
from db.models import (
    AuditEvent,
    Membership,
    Message,
    MigrationItem,
    MigrationWave,
    Organization,
    Person,
    Registration,
    ServiceUsage,
    VerificationToken,
)
from domain.clock import FixedClock
from domain.context import App
from domain.migration import batch, waves, writes
from domain.migration.activation_mail import ActivationRenderer, full_render
from domain.migration.activation_mail import Membership as MailMembership
from domain.migration.invariants import Check
from domain.migration.plan import PlanRequest, plan_waves
from tests import factories
from tests.conftest import TOKYO
from tests.migration.world import ACTOR, organization, run_wave, usage_totals, verified

SWITCH = dt.datetime(2025, 9, 28, 0, 0, tzinfo=TOKYO)


def count(session: Session, model: Any, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def plan_all(app: App, **kwargs: object) -> list[MigrationWave]:
    with app.unit_of_work() as session:
        plan_waves(session, app.clock, PlanRequest(canary_share=0, **kwargs))  # type: ignore[arg-type]
    with app.sessions() as session:
        return list(session.scalars(select(MigrationWave).order_by(MigrationWave.position)))


def start(app: App, wave: MigrationWave) -> None:
    with app.unit_of_work() as session:
        waves.begin(session, app.clock, session.get_one(MigrationWave, wave.id), actor=ACTOR)


def the_wave_started(app: App, session: Session, clock: FixedClock) -> MigrationWave:
    """What the test set up, committed; on the switch day, the one wave planned and started."""
    session.commit()
    clock.set(SWITCH)
    [wave] = plan_all(app)
    start(app, wave)
    return wave


def finish(app: App, wave: MigrationWave) -> list[Check]:
    with app.unit_of_work() as session:
        return waves.finish(
            session, app.clock, session.get_one(MigrationWave, wave.id), actor=ACTOR, summary={}
        )


def test_an_organization_is_migrated_whole(app: App, session: Session, clock: FixedClock) -> None:
    organization(app, session, "Registered nobody")  # so that item and organization ids differ
    org = organization(app, session, "Aoshio Kaiun K.K.", locale=Locale.JA)
    admin = verified(app, session, org, "Admin@Aoshio.example", Role.ADMINISTRATOR, "Hanako Sato")
    user = verified(app, session, org, "ops@aoshio.example", Role.VISITOR, "Ken Ito")
    pending = factories_pending(app, session, org, "late@aoshio.example")
    session.commit()
    before = usage_totals(session)
    clock.set(SWITCH)
    [wave] = plan_all(app)
    start(app, wave)
    result = run_wave(app, wave.id)
    checks = finish(app, wave)

    assert (result.migrated, result.registrations, result.persons_created) == (1, 2, 2)
    assert all(check.passed for check in checks), checks
    session.expire_all()
    persons = {p.email: p for p in session.scalars(select(Person))}
    assert set(persons) == {"admin@aoshio.example", "ops@aoshio.example"}
    assert all(p.status is PersonStatus.PENDING_ACTIVATION for p in persons.values())
    roles = {
        m.person_id: m.role
        for m in session.scalars(select(Membership).where(Membership.organization_id == org.id))
    }
    assert roles == {
        persons["admin@aoshio.example"].id: Role.ADMINISTRATOR,
        persons["ops@aoshio.example"].id: Role.VISITOR,
    }
    statuses = {r.id: r.status for r in session.scalars(select(Registration))}
    assert statuses == {
        admin.id: RegistrationStatus.MIGRATED,
        user.id: RegistrationStatus.MIGRATED,
        pending.id: RegistrationStatus.PENDING,
    }
    migrated_org = session.get_one(Organization, org.id)
    assert not migrated_org.legacy_login_enabled
    assert migrated_org.legacy_login_disabled_at == SWITCH
    assert usage_totals(session) == before
    # One activation email per person, in the organization's language, with a live link.
    emails = session.scalars(select(Message).order_by(Message.to_address)).all()
    assert [m.to_address for m in emails] == ["admin@aoshio.example", "ops@aoshio.example"]
    assert all(m.template == "migration_activation" and m.locale is Locale.JA for m in emails)
    assert "/activate/" in emails[0].body_text and "管理者" in emails[0].body_text
    tokens = session.scalars(select(VerificationToken)).all()
    assert {t.person_id for t in tokens} == {p.id for p in persons.values()}
    assert all(t.purpose is TokenPurpose.ACTIVATE_ACCOUNT for t in tokens)
    assert all(t.expires_at == SWITCH + dt.timedelta(days=7) for t in tokens)
    item = session.scalars(select(MigrationItem)).one()
    assert item.status is MigrationItemStatus.MIGRATED and item.reason is None
    assert item.id != org.id
    assert {
        m.migration_item_id
        for m in session.scalars(select(Membership).where(Membership.organization_id == org.id))
    } == {item.id}
    assert item.details is not None and item.details["legacy_login_disabled"] is True
    assert count(session, AuditEvent, AuditEvent.action == "migration.organization_migrated") == 1


def factories_pending(app: App, session: Session, org: Organization, email: str) -> Registration:
    return factories.registration(session, app.clock, app.calendar, org, email)


def test_a_person_in_two_organizations_gets_one_account_and_one_email(
    app: App, session: Session, clock: FixedClock
) -> None:
    first = organization(app, session, "Aoshio Kaiun")
    second = organization(app, session, "Kuroshio Marine")
    verified(app, session, first, "consultant@advisers.example", Role.ADMINISTRATOR)
    verified(app, session, second, "Consultant@Advisers.example", Role.NORMAL)
    verified(app, session, second, "boss@kuroshio.example", Role.ADMINISTRATOR)
    session.commit()
    clock.set(SWITCH)
    [wave] = plan_all(app)
    start(app, wave)
    run_wave(app, wave.id)
    assert all(c.passed for c in finish(app, wave))

    consultant = session.scalars(
        select(Person).where(Person.email == "consultant@advisers.example")
    ).one()
    memberships = session.scalars(
        select(Membership).where(Membership.person_id == consultant.id)
    ).all()
    assert {(m.organization_id, m.role) for m in memberships} == {
        (first.id, Role.ADMINISTRATOR),
        (second.id, Role.NORMAL),
    }
    [email] = session.scalars(
        select(Message).where(Message.to_address == "consultant@advisers.example")
    ).all()
    assert "Aoshio Kaiun (Administrator)" in email.body_text
    assert "Kuroshio Marine (Normal User)" in email.body_text


def test_a_person_met_again_in_a_later_wave_is_reused_without_a_second_email(
    app: App, session: Session, clock: FixedClock
) -> None:
    first = organization(app, session, "Aoshio Kaiun")
    second = organization(app, session, "Kuroshio Marine")
    verified(app, session, first, "consultant@advisers.example", Role.ADMINISTRATOR)
    verified(app, session, second, "consultant@advisers.example", Role.ADMINISTRATOR)
    session.commit()
    clock.set(SWITCH)
    canary, rest = plan_all(app, wave_size=1)
    for wave in (canary, rest):
        start(app, wave)
        run_wave(app, wave.id)
        assert all(c.passed for c in finish(app, wave))
    assert count(session, Person) == 1
    assert count(session, Membership, Membership.status == MembershipStatus.ACTIVE) == 2
    assert count(session, Message) == 1
    items = session.scalars(select(MigrationItem).order_by(MigrationItem.id)).all()
    assert [i.details["persons_created"] != [] for i in items if i.details] == [True, False]


def test_two_batches_side_by_side_send_a_shared_person_one_email(
    app: App, session: Session, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL batches run side by side. A person without a password and without a live
    link (it expired) is in both: both batches reach the activation step together, and the
    person still gets one email, from the batch that locked them first."""
    if app.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one batch at a time")
    first = organization(app, session, "Aoshio Kaiun")
    second = organization(app, session, "Kuroshio Marine")
    for org, boss in ((first, "boss@aoshio.example"), (second, "boss@kuroshio.example")):
        verified(app, session, org, boss, Role.ADMINISTRATOR)
        verified(app, session, org, "consultant@advisers.example", Role.NORMAL)
    session.add(
        Person(
            email="consultant@advisers.example",
            display_name="Consultant",
            status=PersonStatus.PENDING_ACTIVATION,
            created_at=clock.now(),
        )
    )
    wave = the_wave_started(app, session, clock)
    with app.sessions() as db:
        ranges = batch.item_ranges(db, wave.id, waves.TO_DO, 1)
    assert len(ranges) == 2
    together = threading.Barrier(2, timeout=20)
    real = writes.disable_legacy

    def meet_then_disable(*args: Any) -> None:  # the step just before the activation links
        together.wait()
        real(*args)

    monkeypatch.setattr(writes, "disable_legacy", meet_then_disable)
    renderer = ActivationRenderer(app.settings)
    results: list[batch.BatchResult] = []

    def migrate(first_id: int, last_id: int) -> None:
        results.append(
            batch.migrate_range(app, wave.id, first_id, last_id, waves.TO_DO, renderer, actor=ACTOR)
        )

    threads = [threading.Thread(target=migrate, args=r) for r in ranges]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [(r.migrated, r.one_by_one) for r in results] == [(1, 0), (1, 0)]
    assert all(c.passed for c in finish(app, wave))
    assert count(session, Message, Message.to_address == "consultant@advisers.example") == 1
    assert count(session, Message) == 3 and count(session, Person) == 3
    assert sum(r.activation_emails for r in results) == 3


def test_a_deadlock_runs_the_range_again_whole(
    app: App, session: Session, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database ended the range's transaction to break a deadlock with another batch: the
    range is simply done again, not taken apart one organization at a time."""
    for n in range(3):
        org = organization(app, session, f"Kaiun {n}", usage=False)
        verified(app, session, org, f"boss@kaiun{n}.example", Role.ADMINISTRATOR)
    wave = the_wave_started(app, session, clock)
    real = batch.migrate_items
    calls = {"n": 0}

    class Deadlock(Exception):
        sqlstate = "40P01"

    def deadlocked_once(*args: Any, **kwargs: Any) -> batch.BatchResult:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("UPDATE registrations …", {}, Deadlock("deadlock detected"))
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "migrate_items", deadlocked_once)
    result = run_wave(app, wave.id)
    assert (result.migrated, result.one_by_one, calls["n"]) == (3, 0, 2)
    assert count(session, Message) == 3


def test_an_organization_with_only_visitors_is_migrated_and_listed(
    app: App, session: Session, clock: FixedClock
) -> None:
    org = organization(app, session, "Visitors Only K.K.")
    verified(app, session, org, "a@visitors.example", Role.VISITOR)
    verified(app, session, org, "b@visitors.example", Role.VISITOR)
    session.commit()
    clock.set(SWITCH)
    [wave] = plan_all(app)
    start(app, wave)
    result = run_wave(app, wave.id)
    checks = {c.name: c for c in finish(app, wave)}
    assert result.without_administrator == 1
    item = session.scalars(select(MigrationItem)).one()
    assert item.status is MigrationItemStatus.MIGRATED
    assert item.reason and item.reason.startswith(batch.NO_ADMINISTRATOR)
    assert checks["administrator"].passed
    assert "except 1 listed" in checks["administrator"].detail
    assert count(session, Membership, Membership.role == Role.VISITOR) == 2


def test_an_unlisted_organization_without_administrator_breaks_the_invariant(
    app: App, session: Session, clock: FixedClock
) -> None:
    org = organization(app, session, "Aoshio Kaiun")
    verified(app, session, org, "a@aoshio.example", Role.ADMINISTRATOR)
    session.commit()
    clock.set(SWITCH)
    [wave] = plan_all(app)
    start(app, wave)
    run_wave(app, wave.id)
    # Someone demotes the only Administrator behind the migration's back.
    session.execute(update(Membership).values(role=Role.NORMAL))
    session.commit()
    checks = {c.name: c for c in finish(app, wave)}
    assert not checks["administrator"].passed
    assert org.legacy_login_id in checks["administrator"].detail
    session.expire_all()
    assert session.get_one(MigrationWave, wave.id).status is WaveStatus.HALTED


def test_changed_service_history_breaks_the_invariant(
    app: App, session: Session, clock: FixedClock
) -> None:
    org = organization(app, session, "Aoshio Kaiun")
    verified(app, session, org, "a@aoshio.example", Role.ADMINISTRATOR)
    session.commit()
    clock.set(SWITCH)
    [wave] = plan_all(app)
    start(app, wave)
    run_wave(app, wave.id)
    session.execute(delete(ServiceUsage).where(ServiceUsage.month == dt.date(2025, 1, 1)))
    session.commit()
    checks = {c.name: c for c in finish(app, wave)}
    assert not checks["service history untouched"].passed
    assert "usage_rows 3 → 2" in checks["service history untouched"].detail


def test_a_registration_whose_address_cannot_receive_mail_is_left_with_its_reason(
    app: App, session: Session, clock: FixedClock
) -> None:
    org = organization(app, session, "Aoshio Kaiun")
    verified(app, session, org, "a@aoshio.example", Role.ADMINISTRATOR)
    broken = verified(app, session, org, "b@aoshio.example", Role.NORMAL)
    broken.email = "b@aoshio..example"  # what an old import might have left behind
    session.commit()
    clock.set(SWITCH)
    [wave] = plan_all(app)
    start(app, wave)
    result = run_wave(app, wave.id)
    checks = {c.name: c for c in finish(app, wave)}
    assert (result.migrated, result.registrations, result.not_migrated) == (1, 1, 1)
    assert checks["verified registrations migrated"].passed
    item = session.scalars(select(MigrationItem)).one()
    assert item.details is not None
    assert "cannot receive email" in item.details["not_migrated"][str(broken.id)]


def test_a_failure_in_batch_k_is_isolated_then_resumed_without_duplicates(
    app: App, session: Session, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    orgs = [organization(app, session, f"Kaiun {n}", usage=False) for n in range(9)]
    for org in orgs:
        verified(app, session, org, f"admin@kaiun{org.id}.example", Role.ADMINISTRATOR)
        verified(app, session, org, "shared@advisers.example", Role.NORMAL)
    wave = the_wave_started(app, session, clock)
    real = writes.mark_registrations
    calls = {"n": 0}
    doomed = {orgs[4].id, orgs[5].id}  # both in the second batch of three

    def flaky(session: Session, ids: list[int], now: dt.datetime) -> None:
        calls["n"] += 1
        owners = set(
            session.scalars(select(Registration.organization_id).where(Registration.id.in_(ids)))
        )
        if owners & doomed:
            raise RuntimeError("disk full")
        real(session, ids, now)

    monkeypatch.setattr(writes, "mark_registrations", flaky)
    result = run_wave(app, wave.id, batch_size=3)
    assert (result.migrated, result.failed, result.one_by_one) == (7, 2, 1)
    tally = waves.tally(session, wave.id)
    assert waves.failure_reason(tally, 0.05) == (
        "2 of 9 organizations failed (22.2%), above the maximum failure rate of 5.0%"
    )
    failed = session.scalars(
        select(MigrationItem).where(MigrationItem.status == MigrationItemStatus.FAILED)
    ).all()
    assert {i.organization_id for i in failed} == doomed
    assert all(i.reason == "RuntimeError: disk full" for i in failed)
    # Nothing of the failed organizations was kept.
    assert count(session, Registration, Registration.status == RegistrationStatus.VERIFIED) == 4

    monkeypatch.setattr(writes, "mark_registrations", real)
    resumed = run_wave(app, wave.id, batch_size=3)
    assert (resumed.items, resumed.migrated, resumed.failed) == (2, 2, 0)
    assert all(c.passed for c in finish(app, wave))
    assert count(session, Person) == 10  # nine administrators and one shared adviser
    assert count(session, Membership) == 18
    assert count(session, Message) == 10  # one activation email per person
    assert count(session, Registration, Registration.status == RegistrationStatus.MIGRATED) == 18
    again = run_wave(app, wave.id, batch_size=3)
    assert again.items == 0


def test_bulk_activation_emails_are_the_full_render(app: App) -> None:
    renderer = ActivationRenderer(app.settings)
    expires = dt.datetime(2025, 10, 5, tzinfo=dt.UTC)
    url = "http://127.0.0.1:8000/activate/" + "a" * 43
    cases = [
        (Locale.EN, "Taro Yamada", "Aoshio & Sons <Tokyo>", Role.ADMINISTRATOR),
        (Locale.JA, "山田 太郎", "青潮海運株式会社", Role.VISITOR),
        (Locale.EN, "Ann Lee", "A Very Long Organization Name " * 3, Role.NORMAL),  # wrapped
        (Locale.EN, "Bob  Doubled", "Plain Org", Role.NORMAL),  # doubled space
    ]
    for locale, name, org, role in cases:
        line = [MailMembership(org, role)]
        got = renderer.render(locale, name, "p@x.example", url, expires, line)
        assert got == full_render(app.settings, locale, name, "p@x.example", url, expires, line)
    assert (renderer.fast, renderer.slow) == (2, 2)


def test_bulk_activation_emails_stay_the_full_render_after_the_first(app: App) -> None:
    """Every later email of a layout (filled in, not checked) still equals the full render:
    values with braces and markup, and English lines just under and over 76 columns."""
    renderer = ActivationRenderer(app.settings)
    expires = dt.datetime(2025, 10, 5, tzinfo=dt.UTC)
    url = "http://127.0.0.1:8000/activate/" + "b" * 43
    names = ["Ann Lee", "{name} O'Brien", "Jo & <Co>", "山田 太郎", "X" * 60, "Y" * 70 + " Z"]
    orgs = ["Plain Org", "{0} Shipping {x}", "Aoshio & Sons <Tokyo>", "Org " + "n" * 55, "O " * 40]
    emails = ["p@x.example", "a.very.long.address.of.somebody@subdomain.example.co.jp"]
    for locale in (Locale.EN, Locale.JA):
        for role in (Role.ADMINISTRATOR, Role.NORMAL):
            for name in names:
                for org in orgs:
                    for email in emails:
                        line = [MailMembership(org, role)]
                        got = renderer.render(locale, name, email, url, expires, line)
                        want = full_render(app.settings, locale, name, email, url, expires, line)
                        assert got == want, (locale, role, name, org, email)
    assert renderer.fast > renderer.slow > 0
