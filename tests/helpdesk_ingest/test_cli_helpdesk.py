"""`switchover helpdesk ingest | import-form` against the test database and a real SMTP server."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cli.main import app as cli
from db.enums import MessageStatus
from db.models import HelpdeskContact, Message
from domain.context import App
from tests.helpdesk_ingest.conftest import deliver, email_bytes
from tests.smtp_servers import smtp_server

runner = CliRunner()


@pytest.fixture
def env(app: App, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> App:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("SWITCHOVER_HELPDESK_IMAP_HOST", "SWITCHOVER_HELPDESK_MAILDIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SWITCHOVER_DATABASE_URL", app.settings.database_url)
    return app


def count(app: App, model: type[object]) -> int:
    with app.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_ingest_a_maildir_and_acknowledge(
    env: App, maildir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(maildir, email_bytes(subject="Link expired"))
    dry = runner.invoke(cli, ["helpdesk", "ingest", "--maildir", str(maildir), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would store 1 new requests" in dry.output
    assert count(env, HelpdeskContact) == 0

    with smtp_server() as server:
        monkeypatch.setenv("SWITCHOVER_SMTP_PORT", str(server.port))
        done = runner.invoke(cli, ["helpdesk", "ingest", "--maildir", str(maildir)])
        again = runner.invoke(cli, ["helpdesk", "ingest", "--maildir", str(maildir)])
    assert done.exit_code == 0, done.output
    assert "stored 1 new requests and 0 replies" in done.output
    assert "categories: link_expired 1" in done.output
    assert "acknowledgements sent: 1" in done.output
    assert "1 already stored" in again.output
    [received] = server.handler.received
    assert received.rcpt_tos == ("taro@owner.example",)
    with env.sessions() as session:
        assert session.scalars(select(Message.status)).all() == [MessageStatus.SENT]


def test_ingest_without_a_mailbox_says_what_to_set(env: App) -> None:
    result = runner.invoke(cli, ["helpdesk", "ingest"])
    assert result.exit_code == 2
    assert "SWITCHOVER_HELPDESK_MAILDIR" in result.output


def test_import_form(env: App, tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_text(
        "ID,Start time,Completion time,Email,Name,Inquiry,Details\n"
        "1,7/1/2025 9:00,7/1/2025 9:02,a@owner.example,Ann,Cannot log in,Help\n",
        encoding="utf-8",
    )
    first = runner.invoke(
        cli, ["helpdesk", "import-form", str(path), "--column", "category=Inquiry"]
    )
    assert first.exit_code == 0, first.output
    assert "1 answers; imported 1; 0 imported before; 0 skipped" in first.output
    assert "category = 'Inquiry'" in first.output
    second = runner.invoke(cli, ["helpdesk", "import-form", str(path)])
    assert "imported 0; 1 imported before" in second.output
    assert count(env, HelpdeskContact) == 1

    bad = runner.invoke(cli, ["helpdesk", "import-form", str(path), "--timezone", "Mars/Base"])
    assert bad.exit_code == 2 and "unknown time zone" in bad.output
    wrong = runner.invoke(cli, ["helpdesk", "import-form", str(path), "--column", "x=y"])
    assert wrong.exit_code == 2 and "FIELD=HEADER" in wrong.output
