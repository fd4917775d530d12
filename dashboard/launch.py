"""How the dashboard is started: the `streamlit run` command line and the checks before it.

No Streamlit import here: the `switchover` CLI loads this module for every command.
"""

from __future__ import annotations

import secrets
import sys
import tomllib
from pathlib import Path

from dashboard.theme_options import STREAMLIT_OPTIONS

APP = Path(__file__).with_name("app.py")
MIN_PASSWORD_LENGTH = 12


def password_problem(password: str | None) -> str | None:
    """Why the configured password cannot protect the dashboard, or None when it can."""
    if not password:
        return (
            "the dashboard has no password: set SWITCHOVER_DASHBOARD_PASSWORD (at least "
            f"{MIN_PASSWORD_LENGTH} characters), or configure OIDC in .streamlit/secrets.toml "
            "[auth]"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        return (
            f"SWITCHOVER_DASHBOARD_PASSWORD is too short (at least {MIN_PASSWORD_LENGTH} "
            "characters); choose a longer one"
        )
    return None


def demo_password() -> str:
    return secrets.token_urlsafe(12)


def secrets_files(working_directory: Path) -> tuple[Path, Path]:
    """Where Streamlit looks for secrets.toml: the user's, then the working directory's."""
    return Path.home() / ".streamlit" / "secrets.toml", working_directory / ".streamlit" / (
        "secrets.toml"
    )


def oidc_configured(working_directory: Path) -> bool:
    """Whether an [auth] section is configured where Streamlit will find it.

    An unreadable file raises ValueError naming it: starting without the sign-in the operator
    meant to configure would be worse than not starting.
    """
    for path in secrets_files(working_directory):
        if not path.is_file():
            continue
        try:
            content = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"cannot read {path} ({exc}); fix or remove it") from None
        if isinstance(content.get("auth"), dict) and content["auth"]:
            return True
    return False


def streamlit_command(host: str, port: int) -> list[str]:
    options = {
        "server.address": host,
        "server.port": str(port),
        "server.headless": "true",
        "server.fileWatcherType": "none",
        "server.runOnSave": "false",
        "browser.gatherUsageStats": "false",
        # Viewers see that something failed, never a traceback (the log has it).
        "client.showErrorDetails": "none",
        "client.toolbarMode": "viewer",
        **STREAMLIT_OPTIONS,
    }
    command = [sys.executable, "-m", "streamlit", "run", str(APP)]
    for name, value in options.items():
        command += [f"--{name}", value]
    return command
