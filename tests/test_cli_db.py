from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()


@pytest.fixture
def fresh_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.db"
    monkeypatch.setenv("SWITCHOVER_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.chdir(tmp_path)  # no stray .env
    return path


def test_upgrade_then_current(fresh_db: Path) -> None:
    result = runner.invoke(app, ["db", "current"])
    assert result.exit_code == 0
    assert "revision none (behind" in result.output

    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "upgraded empty ->" in result.output

    again = runner.invoke(app, ["db", "upgrade"])
    assert again.exit_code == 0
    assert "already at revision" in again.output
    assert "up to date" in runner.invoke(app, ["db", "current"]).output


def test_downgrade_needs_confirmation(fresh_db: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    refused = runner.invoke(app, ["db", "downgrade", "base"])
    assert refused.exit_code != 0
    done = runner.invoke(app, ["db", "downgrade", "base", "--yes"])
    assert done.exit_code == 0, done.output
    assert "revision none" in runner.invoke(app, ["db", "current"]).output


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "db" in result.output


def _main_exit(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run the real entry point (with its error handling), as a shell would."""
    import sys

    from cli.main import main

    old = sys.argv
    sys.argv = ["switchover", *args]
    try:
        with pytest.raises(SystemExit) as raised:
            main()
    finally:
        sys.argv = old
    return int(raised.value.code or 0), capsys.readouterr().err


def test_malformed_database_url_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SWITCHOVER_DATABASE_URL", "definitely not a url")
    code, err = _main_exit(capsys, "db", "current")
    assert code == 2
    assert err.startswith("error: invalid setting — SWITCHOVER_DATABASE_URL")
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_unreachable_postgres_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SWITCHOVER_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    code, err = _main_exit(capsys, "db", "upgrade")
    assert code == 2
    assert "cannot open the database" in err
    assert len(err.strip().splitlines()) == 1


def test_unreadable_setting_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SWITCHOVER_SWITCH_DATE", "someday")
    code, err = _main_exit(capsys, "db", "current")
    assert code == 2
    assert "SWITCHOVER_SWITCH_DATE" in err
    assert len(err.strip().splitlines()) == 1
