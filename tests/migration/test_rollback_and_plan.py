"""Rolling a wave back and running it again; planning waves; the unregistered; the preflight."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.enums import (
    Locale,
    MembershipStatus,
    MessageStatus,
    MigrationItemStatus,
    PersonStatus,
    RegistrationStatus,
    Role,
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
    VerificationToken,
)
from domain.clock import FixedClock
from domain.context import App
from domain.migration import preflight, rollback, unregistered, waves
from domain.migration.plan import PlanError, PlanRequest, WaveRule, plan_waves
from domain.passwords import hash_password
from tests.migration.test_migrate import SWITCH, count, finish, plan_all, start
from tests.migration.world import ACTOR, organization, run_wave, verified


def roll_back(
    app: App, name: str, reason: str = "canary showed a problem"
) -> rollback.RollbackResult:
    result = rollback.RollbackResult()
    with app.sessions() as session:
        wave = rollback.find_wave(session, name)
        ranges = rollback.item_ranges(session, wave.id, 2)
    for first, last in ranges:
        with app.unit_of_work() as session:
            wave = session.get_one(MigrationWave, wave.id)
            result.merge(
                rollback.roll_back_items(
                    session, app.clock, wave, first, last, reason=reason, actor=ACTOR
                )
            )
    with app.unit_of_work() as session:
        wave = session.get_one(MigrationWave, wave.id)
        rollback.finish(session, app.clock, wave, result, reason=reason, actor=ACTOR)
    return result


def test_rollback_then_rerun(app: App, session: Session, clock: FixedClock) -> None:
    kept_org = organization(app, session, "Kept Kaiun")
    undone = [organization(app, session, f"Undone {n}") for n in range(3)]
    verified(app, session, kept_org, "consultant@advisers.example", Role.ADMINISTRATOR)
    verified(app, session, undone[0], "consultant@advisers.example", Role.NORMAL)
    for org in undone:
        verified(app, session, org, f"admin@undone{org.id}.example", Role.ADMINISTRATOR)
    session.commit()
    clock.set(SWITCH)
    with app.unit_of_work() as s:
        plan_waves(s, app.clock, PlanRequest(canary=(kept_org.legacy_login_id,), wave_size=10))
    canary, rest = session.scalars(select(MigrationWave).order_by(MigrationWave.position)).all()
    for wave in (canary, rest):
        start(app, wave)
        run_wave(app, wave.id)
        assert all(c.passed for c in finish(app, wave))
    # One of the undone administrators set a password already; the others have not.
    active = session.scalars(
        select(Person).where(Person.email == f"admin@undone{undone[1].id}.example")
    ).one()
    active.password_hash = hash_password("a long enough passphrase")
    active.status = PersonStatus.ACTIVE
    session.commit()

    clock.advance(hours=2)
    result = roll_back(app, rest.name)
    assert (result.organizations, result.memberships_disabled) == (3, 4)
    assert (result.persons_disabled, result.persons_kept) == (3, 1)  # the consultant stays
    assert (result.registrations_restored, result.legacy_logins_enabled) == (4, 3)
    assert result.emails_cancelled == 3 and result.links_revoked == 3
    session.expire_all()
    assert all(session.get_one(Organization, o.id).legacy_login_enabled for o in undone)
    assert not session.get_one(Organization, kept_org.id).legacy_login_enabled
    consultant = session.scalars(
        select(Person).where(Person.email == "consultant@advisers.example")
    ).one()
    assert consultant.status is PersonStatus.PENDING_ACTIVATION
    assert {m.organization_id: m.status for m in consultant.memberships} == {
        kept_org.id: MembershipStatus.ACTIVE,
        undone[0].id: MembershipStatus.DISABLED,
    }
    wave = session.get_one(MigrationWave, rest.id)
    assert wave.status is WaveStatus.ROLLED_BACK and wave.rolled_back_at is not None
    assert (
        count(session, MigrationItem, MigrationItem.status == MigrationItemStatus.ROLLED_BACK) == 3
    )
    assert count(session, AuditEvent, AuditEvent.action == "migration.item_rolled_back") == 3
    assert count(session, Message, Message.status == MessageStatus.FAILED) == 3
    # A normal run leaves a rolled-back wave alone; naming it runs it again.
    assert [w.name for w in waves.waves_to_run(session)] == [canary.name]
    [again] = waves.waves_to_run(session, only=rest.name)
    with app.unit_of_work() as s:
        statuses = waves.begin(s, app.clock, s.get_one(MigrationWave, again.id), actor=ACTOR)
    run_wave(app, again.id, statuses=statuses)
    assert all(c.passed for c in finish(app, again))
    session.expire_all()
    assert count(session, Person) == 4
    assert count(session, Membership) == 5
    assert count(session, Membership, Membership.status == MembershipStatus.ACTIVE) == 5
    assert count(session, Registration, Registration.status == RegistrationStatus.MIGRATED) == 5
    assert not any(session.get_one(Organization, o.id).legacy_login_enabled for o in undone)
    statuses_now = {p.email: p.status for p in session.scalars(select(Person))}
    assert statuses_now[active.email] is PersonStatus.ACTIVE  # had a password: no new link
    # New links for the two who never set a password; the consultant's link is still live.
    assert count(session, Message, Message.status == MessageStatus.QUEUED) == 3
    live = session.scalar(
        select(func.count()).where(
            VerificationToken.revoked_at.is_(None), VerificationToken.used_at.is_(None)
        )
    )
    assert live == 3


def test_rollback_refuses_a_running_wave_unless_forced(app: App, session: Session) -> None:
    org = organization(app, session, "Aoshio")
    verified(app, session, org, "a@aoshio.example", Role.ADMINISTRATOR)
    session.commit()
    [wave] = plan_all(app)
    with pytest.raises(waves.WaveError, match="has not started"):
        rollback.check_can_roll_back(wave, force=False)
    start(app, wave)
    session.expire_all()
    wave = session.get_one(MigrationWave, wave.id)
    with pytest.raises(waves.WaveError, match="is running"):
        rollback.check_can_roll_back(wave, force=False)
    rollback.check_can_roll_back(wave, force=True)


def test_canary_by_list_then_waves_by_rule(app: App, session: Session) -> None:
    orgs = []
    for n, locale in enumerate([Locale.EN, Locale.JA, Locale.JA, Locale.EN, Locale.JA]):
        org = organization(app, session, f"Kaiun {n}", locale=locale, usage=False)
        verified(app, session, org, f"a{n}@kaiun.example", Role.ADMINISTRATOR)
        orgs.append(org)
    organization(app, session, "Nobody registered", usage=False)
    session.commit()
    with pytest.raises(PlanError, match="NK999999"), app.unit_of_work() as s:
        plan_waves(s, app.clock, PlanRequest(canary=("NK999999",)))
    with app.unit_of_work() as s:
        plan = plan_waves(
            s,
            app.clock,
            PlanRequest(
                canary=(orgs[0].legacy_login_id.lower(),), wave_size=2, rule=WaveRule.LOCALE
            ),
        )
    assert [(w.name, w.organizations) for w in plan.created] == [
        ("canary", 1),
        ("wave-01 (en)", 1),
        ("wave-02 (ja)", 2),
        ("wave-03 (ja)", 1),
    ]
    # A later run reuses the plan; an organization ready since goes into a catch-up wave.
    late = organization(app, session, "Late Kaiun", usage=False)
    verified(app, session, late, "late@kaiun.example", Role.ADMINISTRATOR)
    session.commit()
    with app.unit_of_work() as s:
        again = plan_waves(s, app.clock, PlanRequest())
    assert again.reused
    assert [(w.name, w.position, w.organizations) for w in again.created] == [("catch-up-01", 4, 1)]
    with app.unit_of_work() as s:
        assert plan_waves(s, app.clock, PlanRequest()).created == ()


def test_canary_by_share_is_spread_and_stable(app: App, session: Session) -> None:
    for n in range(40):
        org = organization(app, session, f"Kaiun {n}", usage=False)
        verified(app, session, org, f"a{n}@kaiun.example", Role.ADMINISTRATOR)
    session.commit()
    with app.unit_of_work() as s:
        first = plan_waves(s, app.clock, PlanRequest(canary_share=0.1, wave_size=100))
        canary_ids = set(
            s.scalars(
                select(MigrationItem.organization_id).where(
                    MigrationItem.wave_id == first.created[0].id
                )
            )
        )
        s.rollback()
    with app.unit_of_work() as s:
        second = plan_waves(s, app.clock, PlanRequest(canary_share=0.1, wave_size=100))
        again_ids = set(
            s.scalars(
                select(MigrationItem.organization_id).where(
                    MigrationItem.wave_id == second.created[0].id
                )
            )
        )
    assert len(canary_ids) == 4 and canary_ids == again_ids
    assert max(canary_ids) - min(canary_ids) > 10  # not simply the first four


def test_unregistered_organizations_lose_their_shared_login_or_get_a_grace_period(
    app: App, session: Session, clock: FixedClock
) -> None:
    ready = organization(app, session, "Ready", usage=False)
    verified(app, session, ready, "a@ready.example", Role.ADMINISTRATOR)
    silent = organization(app, session, "Silent", usage=False)
    session.commit()
    clock.set(SWITCH)
    with app.sessions() as s:
        assert unregistered.count(s) == 1
        [(first, last)] = unregistered.ranges(s, 100)
    graceful = app.settings.model_copy(update={"unregistered_legacy_grace_days": 14})
    with app.unit_of_work() as s:
        result = unregistered.close(s, app.clock, graceful, app.calendar, first, last, actor=ACTOR)
    assert result.kept_until == SWITCH + dt.timedelta(days=14) and result.disabled == 0
    session.expire_all()
    org = session.get_one(Organization, silent.id)
    assert org.legacy_login_enabled and org.legacy_login_expires_at == result.kept_until
    assert session.get_one(Organization, ready.id).legacy_login_expires_at is None
    # Put back, then the default: off at the switch.
    session.execute(update(Organization).values(legacy_login_expires_at=None))
    session.commit()
    with app.unit_of_work() as s:
        result = unregistered.close(
            s, app.clock, app.settings, app.calendar, first, last, actor=ACTOR
        )
    assert (result.organizations, result.disabled, result.kept_until) == (1, 1, None)
    session.expire_all()
    assert not session.get_one(Organization, silent.id).legacy_login_enabled
    assert (
        count(session, AuditEvent, AuditEvent.action == "legacy_login.disabled_unregistered") == 1
    )


def test_preflight_counts_and_conflicts(app: App, session: Session) -> None:
    a = organization(app, session, "Aoshio", usage=False)
    b = organization(app, session, "Kuroshio", usage=False)
    verified(app, session, a, "a@aoshio.example", Role.ADMINISTRATOR)
    verified(app, session, a, "shared@advisers.example", Role.NORMAL)
    verified(app, session, b, "shared@advisers.example", Role.VISITOR)
    bounced = verified(app, session, b, "gone@kuroshio.example", Role.NORMAL)
    bounced.status = RegistrationStatus.BOUNCED
    organization(app, session, "Silent", usage=False)
    session.commit()
    plan_all(app)
    with app.sessions() as s:
        found = preflight.check(s, waves.waves_to_run(s))
    [wave] = found.waves
    assert (wave.organizations, wave.registrations, wave.with_administrator) == (2, 3, 1)
    assert found.without_administrator == 1
    assert found.without_administrator_sample[0]["login_id"] == b.legacy_login_id
    assert found.shared_addresses == 1
    assert found.shared_sample == ({"email": "shared@advisers.example", "organizations": 2},)
    assert found.bounced == 1 and found.bounced_sample[0]["email"] == "gone@kuroshio.example"
    assert found.unregistered == 1
