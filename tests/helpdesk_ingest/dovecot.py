"""A real IMAP server for the tests: Debian's Dovecot, on a free port, with a throwaway setup.

One user (plain password from a passwd-file), a Maildir per user, no TLS, logs in the temporary
directory. Dovecot refuses to run its login and mail processes as root, so under root (CI
containers) they run as the package's ``dovenull`` and ``dovecot`` users, and the directory is
made readable for them.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot") or next(
    (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.access(p, os.X_OK)), None
)
USER = "support"
PASSWORD = "imap-test-password"


@dataclass(frozen=True)
class Dovecot:
    host: str
    port: int
    username: str
    password: str
    root: Path

    def maildir(self, user: str = USER) -> Path:
        return self.root / "mail" / user


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config(root: Path, port: int) -> str:
    if os.geteuid() == 0:
        mail_user = pwd.getpwnam("dovecot")
        uid, gid = mail_user.pw_uid, mail_user.pw_gid
        internal, login = "dovecot", "dovenull"
    else:
        uid, gid = os.getuid(), os.getgid()
        internal = login = pwd.getpwuid(uid).pw_name
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
default_internal_user = {internal}
default_login_user = {login}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
"""


def _wait_for_greeting(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot exited ({process.returncode}): {_tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1) as s:
            if s.recv(100).startswith(b"* OK"):
                return
        time.sleep(0.1)
    raise RuntimeError(f"dovecot did not answer on port {port} within 30 s: {_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"


@contextlib.contextmanager
def dovecot_server() -> Iterator[Dovecot]:
    if DOVECOT is None:
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd; .ci/run does)")
    # Not under pytest's tmp_path: that is private to the test user, and under root Dovecot's
    # own users must be able to reach the mail directory.
    root = Path(tempfile.mkdtemp(prefix="switchover-dovecot-"))
    root.chmod(0o755)
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir()
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    if os.geteuid() == 0:
        mail_user = pwd.getpwnam("dovecot")
        for sub in ("mail", "home"):
            os.chown(root / sub, mail_user.pw_uid, mail_user.pw_gid)
    port = _free_port()
    config = root / "dovecot.conf"
    config.write_text(_config(root, port))
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for_greeting(port, process, root / "dovecot.log")
        yield Dovecot("127.0.0.1", port, USER, PASSWORD, root)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        shutil.rmtree(root, ignore_errors=True)
