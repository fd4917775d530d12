"""The login-migration and migration-rollback flows under Prefect, and the switch-day run."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import State
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.enums import (
    MembershipStatus,
    MigrationItemStatus,
    MigrationRunStatus,
    RegistrationStatus,
    Role,
    WaveStatus,
)
from db.models import (
    Membership,
    Message,
    MigrationItem,
    MigrationRun,
    MigrationWave,
    Organization,
    Person,
    Registration,
)
from domain.context import App
from domain.migration import batch, runs, writes
from domain.settings import Settings
from flows.deployments import SPECS, to_deployments
from flows.login_migration import login_migration
from flows.migration_rollback import migration_rollback
from flows.one_off import schedule_one_off_runs
from tasks import migration as task_module
from tests.conftest import TOKYO
from tests.flows.test_flows import markdown
from tests.migration.world import organization, usage_totals, verified

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_server", "flow_env")]

SWITCH = dt.datetime(2025, 9, 28, 0, 0, tzinfo=TOKYO)


def count(session: Session, model: Any, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def world(app: App, session: Session) -> dict[str, Organization]:
    orgs = {
        "canary": organization(app, session, "Canary Kaiun"),
        "visitors": organization(app, session, "Visitors Only K.K."),
        "group": organization(app, session, "Group Marine"),
        "silent": organization(app, session, "Silent Shipping"),
    }
    for n in range(6):
        orgs[f"fleet{n}"] = organization(app, session, f"Fleet {n}", usage=False)
        verified(app, session, orgs[f"fleet{n}"], f"admin@fleet{n}.example", Role.ADMINISTRATOR)
    verified(app, session, orgs["canary"], "admin@canary.example", Role.ADMINISTRATOR)
    verified(app, session, orgs["visitors"], "v@visitors.example", Role.VISITOR)
    verified(app, session, orgs["group"], "boss@group.example", Role.ADMINISTRATOR)
    verified(app, session, orgs["group"], "admin@canary.example", Role.NORMAL)  # two orgs
    session.commit()
    return orgs


def test_dry_run_reports_the_preflight_and_changes_nothing(app: App, session: Session) -> None:
    orgs = world(app, session)
    state: State[Any] = login_migration(
        as_of=SWITCH,
        dry_run=True,
        canary=[orgs["canary"].legacy_login_id],
        wave_size=4,
        return_state=True,
    )
    assert state.is_completed(), state
    result = state.result()
    assert result["waves"] == ["canary", "wave-01", "wave-02"]
    assert (result["organizations"], result["without_administrator"]) == (9, 1)
    assert (result["shared_addresses"], result["unregistered"]) == (1, 1)
    report = markdown(state, "login-migration-preflight")
    assert "## Login migration — preflight — 2025-09-28 00:00 (JST)" in report
    assert "**Dry run**" in report
    assert "| canary | planned | 1 | 1 | 1 |" in report
    assert orgs["visitors"].legacy_login_id in report
    assert count(session, MigrationWave) == 0
    assert count(session, MigrationRun) == 0
    assert count(session, Person) == 0


def test_the_switch_migrates_wave_by_wave_and_a_second_run_changes_nothing(
    app: App, session: Session
) -> None:
    orgs = world(app, session)
    usage = usage_totals(session)
    state: State[Any] = login_migration(
        as_of=SWITCH,
        canary=[orgs["canary"].legacy_login_id],
        wave_size=4,
        batch_size=10,
        return_state=True,
    )
    assert state.is_completed(), state
    result = state.result()
    assert result["status"] == "completed"
    assert (result["migrated"], result["failed"], result["registrations"]) == (9, 0, 10)
    assert (result["persons_created"], result["activation_emails"]) == (9, 9)
    assert result["unregistered_closed"] == 1
    report = markdown(state, "login-migration")
    assert "| canary | completed | 1 | 1 | 0 | 0 | 1 | 1 | 1 |" in report
    assert "**FAILED**" not in report and "| service history untouched | passed |" in report
    assert "1 organizations were migrated without an Administrator" in report
    assert "1** organizations that registered nobody had their shared log-in turned off" in report
    session.expire_all()
    assert all(not org.legacy_login_enabled for org in session.scalars(select(Organization)))
    assert usage_totals(session) == usage
    assert runs.is_frozen(session)
    assert {w.status for w in session.scalars(select(MigrationWave))} == {WaveStatus.COMPLETED}
    shared = session.scalars(select(Person).where(Person.email == "admin@canary.example")).one()
    assert len(shared.memberships) == 2

    again: State[Any] = login_migration(as_of=SWITCH + dt.timedelta(hours=1), return_state=True)
    assert again.is_completed(), again
    assert (again.result()["migrated"], again.result()["activation_emails"]) == (0, 0)
    assert count(session, Person) == 9 and count(session, Message) == 9
    assert count(session, MigrationRun, MigrationRun.status == MigrationRunStatus.COMPLETED) == 2


def test_a_failure_rate_above_the_maximum_halts_and_a_rerun_resumes(
    app: App, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    orgs = world(app, session)
    doomed = {orgs["fleet1"].id, orgs["fleet2"].id}  # the second batch of three
    real = writes.mark_registrations

    def flaky(db: Session, ids: list[int], now: dt.datetime) -> None:
        owners = set(
            db.scalars(select(Registration.organization_id).where(Registration.id.in_(ids)))
        )
        if owners & doomed:
            raise RuntimeError("the database refused the write")
        real(db, ids, now)

    monkeypatch.setattr(writes, "mark_registrations", flaky)
    state: State[Any] = login_migration(
        as_of=SWITCH,
        canary_share=0,
        wave_size=20,
        batch_size=3,
        max_failure_rate=0.1,
        concurrent_batches=1,  # batch by batch: the halt comes before the third batch starts
        return_state=True,
    )
    assert state.is_failed()
    assert "2 of 6 organizations failed (33.3%)" in str(state.message)
    session.expire_all()
    [wave] = session.scalars(select(MigrationWave)).all()
    assert wave.status is WaveStatus.HALTED and "above the maximum" in (wave.halt_reason or "")
    assert count(session, MigrationItem, MigrationItem.status == MigrationItemStatus.PENDING) == 3
    report = markdown(state, "login-migration")
    assert "> **Halted**" in report and "RuntimeError: the database refused the write" in report
    # Nothing is closed while the waves are not done.
    assert session.get_one(Organization, orgs["silent"].id).legacy_login_enabled

    monkeypatch.setattr(writes, "mark_registrations", real)
    resumed: State[Any] = login_migration(
        as_of=SWITCH + dt.timedelta(minutes=30), batch_size=3, return_state=True
    )
    assert resumed.is_completed(), resumed
    assert resumed.result()["migrated"] == 5  # the two failed and three never reached
    session.expire_all()
    assert count(session, Registration, Registration.status == RegistrationStatus.MIGRATED) == 10
    assert count(session, Person) == 9 and count(session, Message) == 9
    assert session.get_one(MigrationWave, wave.id).status is WaveStatus.COMPLETED


def test_rollback_then_the_wave_runs_again(app: App, session: Session) -> None:
    orgs = world(app, session)
    login_migration(as_of=SWITCH, canary=[orgs["group"].legacy_login_id], wave_size=20)
    preview: State[Any] = migration_rollback(
        wave="canary", reason="wrong roles in the canary", dry_run=True, return_state=True
    )
    assert preview.is_completed()
    assert preview.result()["memberships_disabled"] == 2
    assert "**Dry run**" in markdown(preview, "migration-rollback")
    session.expire_all()
    assert not session.get_one(Organization, orgs["group"].id).legacy_login_enabled

    state: State[Any] = migration_rollback(
        wave="canary", reason="wrong roles in the canary", return_state=True
    )
    assert state.is_completed(), state
    result = state.result()
    assert (result["organizations"], result["persons_disabled"], result["persons_kept"]) == (
        1,
        1,
        1,
    )
    assert "only_wave = `canary`" in markdown(state, "migration-rollback")
    session.expire_all()
    assert session.get_one(Organization, orgs["group"].id).legacy_login_enabled
    shared = session.scalars(select(Person).where(Person.email == "admin@canary.example")).one()
    assert {m.organization_id: m.status for m in shared.memberships} == {
        orgs["canary"].id: MembershipStatus.ACTIVE,
        orgs["group"].id: MembershipStatus.DISABLED,
    }

    again: State[Any] = login_migration(as_of=SWITCH, only_wave="canary", return_state=True)
    assert again.is_completed(), again
    assert again.result()["migrated"] == 1
    session.expire_all()
    assert not session.get_one(Organization, orgs["group"].id).legacy_login_enabled
    assert count(session, Membership, Membership.status == MembershipStatus.ACTIVE) == 10
    assert (
        session.scalars(select(MigrationWave.status).where(MigrationWave.name == "canary")).one()
        is WaveStatus.COMPLETED
    )


def test_the_switch_run_is_scheduled_once_at_the_switch_instant(settings: Settings) -> None:
    future = settings.model_copy(
        update={
            "preregistration_opens": dt.date(2030, 6, 15),
            "preregistration_closes": dt.date(2030, 9, 14),
            "switch_date": dt.date(2030, 9, 28),
        }
    )
    specs = [s for s in SPECS if s.name == "login-migration"]
    deployments = to_deployments(future, specs=specs)
    [first] = schedule_one_off_runs(deployments, future, register=True)
    [second] = schedule_one_off_runs(deployments, future, register=False)
    assert first.run is not None and second.run is not None
    assert first.run.id == second.run.id
    assert first.at == dt.datetime(2030, 9, 27, 15, 0, tzinfo=dt.UTC)
    moved = future.model_copy(update={"switch_date": dt.date(2030, 9, 29)})
    [third] = schedule_one_off_runs(deployments, moved, register=False)
    assert third.run is not None and third.run.id != first.run.id
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(third.run.id)
        assert run.state is not None and run.state.is_scheduled()
        assert run.expected_start_time == dt.datetime(2030, 9, 28, 15, 0, tzinfo=dt.UTC)
        assert run.parameters == {}  # the deployment's defaults
        gone = [r.id for r in client.read_flow_runs() if r.id == first.run.id]
    assert gone == []
    # A switch already past is never scheduled (Prefect would start it at once).
    [past] = schedule_one_off_runs(deployments, settings, register=False)
    assert past.run is None


def test_a_crash_in_batch_k_fails_the_run_and_a_rerun_resumes(
    app: App, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    world(app, session)
    real = batch.migrate_range
    calls = {"n": 0}

    def crash_on_second(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(task_module, "migrate_range", crash_on_second)  # what the task calls
    state: State[Any] = login_migration(
        as_of=SWITCH,
        canary_share=0,
        wave_size=20,
        batch_size=3,
        concurrent_batches=1,  # the second batch is the second call
        return_state=True,
    )
    assert state.is_failed() and "server closed the connection" in str(state.message)
    session.expire_all()
    [wave] = session.scalars(select(MigrationWave)).all()
    assert wave.status is WaveStatus.HALTED
    assert "the run stopped on an error (ConnectionError" in (wave.halt_reason or "")
    [run] = session.scalars(select(MigrationRun)).all()
    assert run.status is MigrationRunStatus.FAILED and run.finished_at is not None
    assert count(session, MigrationItem, MigrationItem.status == MigrationItemStatus.MIGRATED) == 3

    monkeypatch.setattr(task_module, "migrate_range", real)
    resumed: State[Any] = login_migration(as_of=SWITCH, batch_size=3, return_state=True)
    assert resumed.is_completed(), resumed
    assert resumed.result()["migrated"] == 6
    assert count(session, Person) == 9 and count(session, Message) == 9
    assert count(session, Membership) == 10


def test_batches_side_by_side_crash_halt_and_resume_to_the_same_end(
    app: App, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two batches in flight (PostgreSQL; SQLite takes one at a time): a crash in one fails the
    run once the other has finished, the counts of the run are what the database holds, and a
    re-run ends where a run batch by batch ends."""
    orgs = world(app, session)
    real = batch.migrate_range
    doomed = {orgs["fleet1"].id}

    def crash_for_fleet1(*args: Any, **kwargs: Any) -> Any:
        with app.sessions() as db:
            owners = set(
                db.scalars(
                    select(MigrationItem.organization_id).where(
                        MigrationItem.id.between(args[2], args[3])
                    )
                )
            )
        if owners & doomed:
            raise ConnectionError("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(task_module, "migrate_range", crash_for_fleet1)
    state: State[Any] = login_migration(
        as_of=SWITCH, canary_share=0, wave_size=20, batch_size=2, return_state=True
    )
    assert state.is_failed() and "server closed the connection" in str(state.message)
    session.expire_all()
    [run] = session.scalars(select(MigrationRun)).all()
    migrated = count(session, MigrationItem, MigrationItem.status == MigrationItemStatus.MIGRATED)
    assert run.status is MigrationRunStatus.FAILED and run.report is not None
    assert run.report["migrated"] == migrated  # every batch that ran is counted
    assert count(session, MigrationItem, MigrationItem.status == MigrationItemStatus.PENDING)

    monkeypatch.setattr(task_module, "migrate_range", real)
    resumed: State[Any] = login_migration(as_of=SWITCH, batch_size=2, return_state=True)
    assert resumed.is_completed(), resumed
    assert resumed.result()["migrated"] == 9 - migrated
    session.expire_all()
    assert count(session, Person) == 9 and count(session, Message) == 9
    assert count(session, Membership) == 10
    assert count(session, Registration, Registration.status == RegistrationStatus.MIGRATED) == 10
