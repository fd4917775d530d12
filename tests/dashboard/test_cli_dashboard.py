"""`switchover dashboard`: refuses to start unprotected, with one line naming what to set."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from dashboard import launch

runner = CliRunner()


class Started(Exception):
    """Raised by the stand-in for os.execve: the dashboard would have started."""


@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], dict[str, str]]]:
    calls: list[tuple[list[str], dict[str, str]]] = []

    def execve(path: str, argv: list[str], env: dict[str, str]) -> None:
        calls.append((argv, env))
        raise Started

    monkeypatch.setattr("cli.dashboard_cmd.os.execve", execve)
    return calls


@pytest.fixture
def upgraded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env or .streamlit/
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SWITCHOVER_DATABASE_URL", f"sqlite:///{tmp_path / 'd.db'}")
    for name in ("SWITCHOVER_DASHBOARD_PASSWORD", "SWITCHOVER_DEMO_MODE"):
        monkeypatch.delenv(name, raising=False)
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    return tmp_path


def test_without_a_password_it_refuses(upgraded: Path, launched: list[object]) -> None:
    result = runner.invoke(app, ["dashboard"])
    assert result.exit_code == 2
    assert "SWITCHOVER_DASHBOARD_PASSWORD" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not launched


def test_a_short_password_is_refused(
    upgraded: Path, launched: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWITCHOVER_DASHBOARD_PASSWORD", "short")
    result = runner.invoke(app, ["dashboard"])
    assert result.exit_code == 2 and "too short" in result.output
    assert not launched


def test_it_starts_streamlit_with_the_settings(
    upgraded: Path,
    launched: list[tuple[list[str], dict[str, str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SWITCHOVER_DASHBOARD_PASSWORD", "a-long-enough-password")
    result = runner.invoke(app, ["dashboard", "--port", "8765"])
    assert isinstance(result.exception, Started)
    assert "http://127.0.0.1:8765/" in result.output
    argv, env = launched[0]
    assert argv[:5] == [sys.executable, "-m", "streamlit", "run", str(launch.APP)]
    options = dict(zip(argv[5::2], argv[6::2], strict=True))
    assert options["--server.port"] == "8765"
    assert options["--client.showErrorDetails"] == "none"
    assert options["--theme.primaryColor"].startswith("#")
    assert env["SWITCHOVER_DATABASE_URL"].endswith("d.db")
    assert "a-long-enough-password" not in result.output


def test_demo_mode_makes_up_a_password(
    upgraded: Path,
    launched: list[tuple[list[str], dict[str, str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SWITCHOVER_DEMO_MODE", "true")
    result = runner.invoke(app, ["dashboard"])
    assert isinstance(result.exception, Started)
    _argv, env = launched[0]
    password = env["SWITCHOVER_DASHBOARD_PASSWORD"]
    assert len(password) >= launch.MIN_PASSWORD_LENGTH
    assert f"the dashboard password is {password}" in result.output


def test_oidc_needs_no_password(
    upgraded: Path, launched: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = upgraded / ".streamlit" / "secrets.toml"
    secrets.parent.mkdir()
    secrets.write_text('[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\n')
    result = runner.invoke(app, ["dashboard"])
    assert isinstance(result.exception, Started)
    assert "sign-in: OIDC" in result.output


def test_an_unreadable_secrets_file_is_named(upgraded: Path, launched: list[object]) -> None:
    secrets = upgraded / ".streamlit" / "secrets.toml"
    secrets.parent.mkdir()
    secrets.write_text("[auth\n")
    result = runner.invoke(app, ["dashboard"])
    assert result.exit_code == 2 and "secrets.toml" in result.output
    assert not launched


def test_a_database_that_is_behind_is_refused(
    tmp_path: Path, launched: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SWITCHOVER_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("SWITCHOVER_DASHBOARD_PASSWORD", "a-long-enough-password")
    result = runner.invoke(app, ["dashboard"])
    assert result.exit_code == 2 and "switchover db upgrade" in result.output
    assert not launched
