"""`switchover demo`: everything starts, answers, and stops on Ctrl-C without leaving a process.

The demo runs as a real subprocess in an empty folder (its var/ there), on free ports, standing
on 2025-08-01. The test collects every process the demo started — its children and theirs —
from /proc, sends SIGINT as a terminal's Ctrl-C would, and checks that none survives.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from cli.main import app as cli
from tests.smtp_servers import free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

SWITCHOVER = Path(sys.executable).with_name("switchover")
READY_LINE = "Ctrl-C stops everything."


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def descendants(pid: int) -> set[int]:
    result: set[int] = set()
    todo = [pid]
    while todo:
        for child in _children(todo.pop()):
            if child not in result:
                result.add(child)
                todo.append(child)
    return result


def running(pid: int) -> bool:
    """Alive and not a zombie (a zombie has exited; only its exit status is left)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Lines:
    """The demo's output, read by a thread (a pipe read with select and a buffered readline
    would wait for lines already in the buffer)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        assert process.stdout is not None
        stream = process.stdout

        def pump() -> None:
            for line in stream:
                self.queue.put(line)
            self.queue.put(None)

        threading.Thread(target=pump, daemon=True).start()

    def until(self, marker: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.queue.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            self.seen.append(line)
            if marker in line:
                return "".join(self.seen)
        pytest.fail(f"the demo did not print {marker!r} in {timeout:.0f} s:\n{''.join(self.seen)}")

    def rest(self, timeout: float) -> str:
        lines = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.queue.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            lines.append(line)
        return "".join(lines)


@pytest.fixture
def demo_env(tmp_path: Path) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SWITCHOVER_", "PREFECT_"))
    }
    environment["HOME"] = str(tmp_path)  # no ~/.streamlit or ~/.prefect of the developer
    return environment


def test_the_demo_starts_everything_and_stops_without_orphans(
    tmp_path: Path, demo_env: dict[str, str]
) -> None:
    ports = {name: free_port() for name in ("portal", "dashboard", "prefect", "mailsink")}
    command = [
        str(SWITCHOVER), "demo", "--orgs", "20", "--at", "2025-08-01",
        "--portal-port", str(ports["portal"]), "--dashboard-port", str(ports["dashboard"]),
        "--prefect-port", str(ports["prefect"]), "--mailsink-port", str(ports["mailsink"]),
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=demo_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    started: set[int] = set()
    try:
        lines = Lines(process)
        output = lines.until(READY_LINE, timeout=420)
        started = descendants(process.pid)
        assert len(started) >= 5, output  # sink, portal, Prefect server, dashboard, serve
        portal = f"http://127.0.0.1:{ports['portal']}"
        assert f"Portal       {portal}/" in output
        assert f"Mailbox      {portal}/mailbox" in output
        assert f"Prefect UI   http://127.0.0.1:{ports['prefect']}/" in output
        assert "Dashboard    http://127.0.0.1:" in output and "password: " in output
        assert "Organization log-ins (password Portal-Demo-2025!): " in output
        # Standing on 2025-08-01: the portal counts the days to the close from there.
        assert "pre-registration open, 44 days left" in output
        assert httpx.get(f"{portal}/healthz").json()["status"] == "ok"
        assert httpx.get(f"{portal}/mailbox").status_code == 200  # demo mode
        count = httpx.post(f"http://127.0.0.1:{ports['prefect']}/api/deployments/count", json={})
        assert int(count.text) >= 8
        # The scheduler creates the cron deployments' runs (on SQLAlchemy 2.1 it only does
        # through `switchover prefect-server`).
        scheduled = {"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}}
        deadline = time.monotonic() + 150
        runs = 0
        while runs == 0 and time.monotonic() < deadline:
            time.sleep(3)
            answer = httpx.post(
                f"http://127.0.0.1:{ports['prefect']}/api/flow_runs/count", json=scheduled
            )
            runs = int(answer.text)
        assert runs > 0, "no scheduled flow run was created"
        health = httpx.get(f"http://127.0.0.1:{ports['dashboard']}/_stcore/health")
        assert health.text == "ok"
        assert (tmp_path / "var" / "prefect").is_dir()  # Prefect's own home and database

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=90) == 0
        rest = lines.rest(timeout=10)
        assert "stopped" in rest
        deadline = time.monotonic() + 10
        while any(running(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [pid for pid in started if running(pid)] == []
    finally:
        # Only when the test failed half-way: stop the demo as a person would, then by force;
        # either way nothing it started may outlive the test.
        started |= descendants(process.pid)
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
        for pid in started:
            if running(pid):
                os.kill(pid, signal.SIGKILL)

    # A second run reuses the data and the demo log-ins.
    again = subprocess.run(
        [str(SWITCHOVER), "demo", "--prepare-only"],
        cwd=tmp_path,
        env=demo_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert "It already holds 20 organizations; reusing them." in again.stdout
    assert "Organization log-ins (password Portal-Demo-2025!): " in again.stdout


def test_busy_ports_and_bad_dates_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("SWITCHOVER_")]:
        monkeypatch.delenv(name)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["demo", "--orgs", "3", "--portal-port", str(port)])
    assert result.exit_code == 2
    assert f"portal port {port} in use" in result.output
    bad = CliRunner().invoke(cli, ["demo", "--orgs", "3", "--at", "August"])
    assert bad.exit_code == 2 and "--at 'August'" in bad.output


def test_a_database_seeded_elsewhere_still_shows_its_demo_log_ins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("SWITCHOVER_")]:
        monkeypatch.delenv(name)
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    seeded = runner.invoke(cli, ["seed", "--orgs", "7", "--known-passwords", "2"])
    assert seeded.exit_code == 0, seeded.output
    first = runner.invoke(cli, ["demo", "--prepare-only"])
    assert first.exit_code == 0, first.output
    assert "It already holds 7 organizations; reusing them." in first.output
    line = next(x for x in first.output.splitlines() if x.startswith("Organization log-ins"))
    assert len(line.split(": ", 1)[1].split(", ")) == 2  # exactly the two known passwords
    assert (tmp_path / "var" / "demo" / "logins.json").exists()  # remembered for next time
