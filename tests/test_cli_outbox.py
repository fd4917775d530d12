"""`switchover mail send` against the test database and a real SMTP server."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cli.main import app as cli
from cli.main import main
from db.enums import MessageStatus
from db.models import Message
from domain.context import App
from domain.emails.outbox import OutboxItem, enqueue_many
from domain.emails.rendered import RenderedEmail
from tests.smtp_servers import free_port, password_checker, smtp_server

runner = CliRunner()


@pytest.fixture
def queued(app: App, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> App:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("SWITCHOVER_DATABASE_URL", app.settings.database_url)
    items = [
        OutboxItem(
            key=f"{prefix}:{n}",
            template="reminder",
            locale="en",
            to_address=f"user{n}@owner.example",
            rendered=RenderedEmail("Reminder", "text\n", "<p>html</p>"),
        )
        for prefix in ("reminder:T-7", "verification")
        for n in range(3)
    ]
    with app.unit_of_work() as session:
        enqueue_many(session, items, clock=app.clock)
    return app


def statuses(app: App) -> dict[str, MessageStatus]:
    with app.sessions() as session:
        return dict(session.execute(select(Message.idempotency_key, Message.status)).all())


def test_send_delivers_what_is_due(queued: App, monkeypatch: pytest.MonkeyPatch) -> None:
    with smtp_server() as server:
        monkeypatch.setenv("SWITCHOVER_SMTP_PORT", str(server.port))
        first = runner.invoke(cli, ["mail", "send", "--prefix", "verification:", "--limit", "2"])
        rest = runner.invoke(cli, ["mail", "send"])

    assert first.exit_code == 0, first.output
    assert f"2 due, 2 sent, 0 to retry, 0 failed via 127.0.0.1:{server.port}" in first.output
    assert rest.exit_code == 0, rest.output
    assert "4 due, 4 sent" in rest.output
    assert set(statuses(queued).values()) == {MessageStatus.SENT}
    assert len(server.handler.received) == 6


def test_an_unreachable_relay_exits_non_zero(queued: App, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHOVER_SMTP_PORT", str(free_port()))
    result = runner.invoke(cli, ["mail", "send"])
    assert result.exit_code == 1
    assert "6 due, 0 sent, 6 to retry" in result.output
    assert "could not be reached" in result.output
    assert set(statuses(queued).values()) == {MessageStatus.QUEUED}


def test_refused_credentials_name_the_settings(
    queued: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    checker = password_checker("portal", "right")
    with smtp_server(authenticator=checker, auth_require_tls=False) as server:
        monkeypatch.setenv("SWITCHOVER_SMTP_PORT", str(server.port))
        monkeypatch.setenv("SWITCHOVER_SMTP_USERNAME", "portal")
        monkeypatch.setenv("SWITCHOVER_SMTP_PASSWORD", "wrong")
        monkeypatch.setattr(sys, "argv", ["switchover", "mail", "send"])
        with pytest.raises(SystemExit) as exited:
            main()  # the real entry point, which turns errors into one line

    error = capsys.readouterr().err
    assert exited.value.code == 2
    assert error.startswith("error: the relay 127.0.0.1:")
    assert "SWITCHOVER_SMTP_PASSWORD" in error and "nothing was sent" in error
    assert len(error.strip().splitlines()) == 1
    assert set(statuses(queued).values()) == {MessageStatus.QUEUED}
