"""The key that signs session cookies: from settings, or generated once and kept under var/.

Every worker must sign with the same key, and a restart must not log everyone out, so a generated
key is written to a file that the next process reads. Two workers starting together may both
generate one; the file is created atomically (link into place, which fails if it exists), so
exactly one key wins and both use it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from domain.settings import Settings

SECRET_FILE = Path("var") / "portal_secret_key"
MIN_LENGTH = 32


def session_secret(settings: Settings, path: Path = SECRET_FILE) -> str:
    if settings.portal_secret_key is not None:
        configured = settings.portal_secret_key.get_secret_value()
        if len(configured) < MIN_LENGTH:
            raise ValueError(
                f"SWITCHOVER_PORTAL_SECRET_KEY is too short (at least {MIN_LENGTH} characters); "
                "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return configured
    existing = _read(path)
    if existing:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    candidate = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        with contextlib.suppress(FileExistsError):  # another worker was first: its key wins
            os.link(candidate, path)
    finally:
        candidate.unlink(missing_ok=True)
    key = _read(path)
    if not key:
        raise RuntimeError(f"cannot read the portal's secret key from {path}")
    return key


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None
