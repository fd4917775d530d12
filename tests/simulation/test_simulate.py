"""A whole calendar, small: every organization and every message accounted for."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cli.main import app as cli
from db import schema
from db.engine import make_engine
from db.enums import MessageStatus, RegistrationSource
from db.models import HelpdeskContact, Message, Organization, Registration
from domain import passwords
from domain.clock import FixedClock
from domain.simulation.accounting import FINAL_STATES, organization_states
from simulator import driver, output
from tests import factories

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ORGS = 40


@pytest.fixture
def finished(tmp_path: Path, database_url: str, engine: Engine) -> Iterator[driver.Finished]:
    # On PostgreSQL the simulation runs in the (emptied) test database; on SQLite in its own file.
    postgres = database_url.startswith("postgresql")
    options = driver.Options(
        orgs=ORGS,
        first_day=dt.date(2025, 6, 10),
        last_day=dt.date(2025, 10, 12),
        seed=11,
        out=tmp_path,
        database_url=database_url if postgres else None,
        tick_hours=4,
    )
    result = driver.run(options, progress=lambda _line: None)
    yield result
    result.app.close()


def test_every_organization_and_every_message_is_accounted_for(
    finished: driver.Finished, tmp_path: Path
) -> None:
    written = output.write(finished, tmp_path)
    accounting = written.accounting
    failed = [c for c in accounting.checks if not c.passed]
    assert failed == []

    # Every organization in exactly one final state, the same the database tells.
    assert accounting.organizations == ORGS
    assert sum(accounting.states.values()) == ORGS
    assert set(accounting.states) == set(FINAL_STATES)
    app = finished.app
    with app.sessions() as session:
        states = organization_states(session)
        assert len(states) == ORGS
        assert session.scalar(select(func.count()).select_from(Organization)) == ORGS
        by_status = dict(
            session.execute(select(Message.status, func.count()).group_by(Message.status)).all()
        )
        helpdesk_rows = session.scalar(select(func.count()).select_from(HelpdeskContact))
        recovered_registrations = session.scalar(
            select(func.count()).where(Registration.source == RegistrationSource.HELPDESK)
        )
    assert {s: list(states.values()).count(s) for s in FINAL_STATES} == accounting.states

    # Message fates add up: per template and status, to the outbox, and to the relay's counts.
    assert accounting.message_total == sum(by_status.values())
    assert sum(n for by in accounting.messages.values() for n in by.values()) == sum(
        by_status.values()
    )
    assert finished.sink_accepted == by_status.get(MessageStatus.SENT, 0) + by_status.get(
        MessageStatus.BOUNCED, 0
    )
    assert finished.sink_refused == by_status.get(MessageStatus.FAILED, 0)
    assert by_status.get(MessageStatus.SENDING, 0) == 0
    assert accounting.helpdesk_total == helpdesk_rows
    assert accounting.registration_sources.get("helpdesk", 0) == recovered_registrations

    # The calendar happened: the campaign went out, people registered, the switch migrated.
    for template in ("announcement", "reminder", "verification", "migration_activation"):
        assert sum(accounting.messages[template].values()) > 0, template
    assert accounting.states["migrated"] > ORGS // 2
    assert accounting.states["ready, not migrated"] == 0
    assert accounting.waves and accounting.waves[0]["name"] == "canary"
    assert finished.sim.jobs.runs["reminder-campaign"] > 0
    assert finished.sim.browser.requests["link confirmed"] > 0

    # The report files.
    text = written.markdown.read_text(encoding="utf-8")
    for heading in (
        "## Organizations at the end",
        "## Every message's fate",
        "## Helpdesk",
        "## Migration",
        "## Checks",
        "## Registration curve",
    ):
        assert heading in text
    data = json.loads(written.json.read_text(encoding="utf-8"))
    assert data["organizations"]["states"] == accounting.states
    days = (dt.date(2025, 10, 12) - dt.date(2025, 6, 10)).days + 1
    assert len(data["curve"]) == days
    assert len(written.csv.read_text().splitlines()) == days + 1
    assert data["curve"][-1]["ready_organizations"] <= ORGS
    assert written.chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    # The process's password hashing is back to production cost.
    assert not passwords.needs_rehash(passwords.hash_password("after-the-simulation"))


def test_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.delenv("SWITCHOVER_DATABASE_URL", raising=False)
    result = CliRunner().invoke(
        cli,
        [
            "simulate",
            "--orgs",
            "12",
            "--from",
            "2025-06-14",
            "--to",
            "2025-06-20",
            "--tick-hours",
            "6",
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "simulated 2025-06-14 to 2025-06-20 with 12 organizations" in result.output
    assert (tmp_path / "out" / "report.md").exists()
    bad = CliRunner().invoke(cli, ["simulate", "--from", "2025-07-01", "--to", "2025-06-01"])
    assert bad.exit_code == 2 and "the last day comes before the first" in bad.output
    worse = CliRunner().invoke(cli, ["simulate", "--from", "July"])
    assert worse.exit_code == 2 and "not a date" in worse.output

    # Someone's real database is never simulated in.
    used = f"sqlite:///{tmp_path / 'used.db'}"
    engine = make_engine(used)
    schema.upgrade(engine)
    with Session(engine) as session:
        factories.organization(session, FixedClock(dt.datetime(2025, 6, 1, tzinfo=dt.UTC)))
        session.commit()
    engine.dispose()
    refused = CliRunner().invoke(
        cli, ["simulate", "--orgs", "3", "--database-url", used, "--out", str(tmp_path / "o")]
    )
    assert refused.exit_code == 2
    assert "already holds organizations" in refused.output


def test_the_same_seed_is_the_same_simulation(tmp_path: Path) -> None:
    def outcome(folder: str, seed: int) -> tuple[object, ...]:
        options = driver.Options(
            orgs=15,
            first_day=dt.date(2025, 6, 14),
            last_day=dt.date(2025, 7, 20),
            seed=seed,
            out=tmp_path / folder,
            tick_hours=6,
        )
        finished = driver.run(options, progress=lambda _line: None)
        try:
            with finished.app.sessions() as session:
                rows = session.execute(
                    select(
                        Registration.email, Registration.status, Registration.submitted_at
                    ).order_by(Registration.id)
                ).all()
            return (
                tuple(sorted(organization_states_of(finished).items())),
                tuple(rows),
                finished.sink_accepted,
                tuple(sorted(finished.sim.browser.requests.items())),
            )
        finally:
            finished.app.close()

    first = outcome("a", 5)
    assert first == outcome("b", 5)
    assert first != outcome("c", 6)


def organization_states_of(finished: driver.Finished) -> dict[int, str]:
    with finished.app.sessions() as session:
        return organization_states(session)
