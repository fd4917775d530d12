"""A small process supervisor: start services, wait until each answers, stop them all cleanly.

Each service runs in its own session (process group), so that the terminal's Ctrl-C reaches
only the supervisor, which then stops the services in the reverse order of their start — the
whole group of each, with every subprocess it started (uvicorn workers, Prefect's flow runs) —
with SIGTERM, then SIGKILL after a grace period. Nothing is left running, and a service that
dies on its own stops the others rather than leaving a half-working demo.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx

Check = Callable[[], bool]
STOP_GRACE_SECONDS = 20.0


class SupervisorError(RuntimeError):
    """A service could not start; the message names it and quotes the end of its log."""


@dataclass
class Service:
    name: str
    command: Sequence[str]
    log: Path
    ready: Check  # True once the service answers
    environment: Mapping[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.rstrip().splitlines()[-lines:])


def port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def http_ok(url: str, *, expect: str | None = None, method: str = "GET") -> Check:
    def check() -> bool:
        try:
            answer = httpx.request(method, url, timeout=2.0)
        except httpx.HTTPError:
            return False
        return answer.status_code < 400 and (expect is None or expect in answer.text)

    return check


def smtp_ok(host: str, port: int) -> Check:
    def check() -> bool:
        try:
            with socket.create_connection((host, port), timeout=2.0) as connection:
                return connection.recv(64).startswith(b"220")
        except OSError:
            return False

    return check


class Supervisor:
    def __init__(self, on_stop_signal: Callable[[], None] | None = None) -> None:
        self.services: list[Service] = []
        self.stopping = threading.Event()
        self._on_stop_signal = on_stop_signal
        self._previous: dict[int, object] = {}

    # --- signals ---
    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            self._previous[sig] = signal.signal(sig, self._signalled)

    def restore_signal_handlers(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        self._previous.clear()

    def _signalled(self, _signum: int, _frame: FrameType | None) -> None:
        if not self.stopping.is_set() and self._on_stop_signal is not None:
            self._on_stop_signal()
        self.stopping.set()

    # --- services ---
    def start(self, service: Service) -> None:
        if self.stopping.is_set():
            raise SupervisorError("stopping: not starting " + service.name)
        service.log.parent.mkdir(parents=True, exist_ok=True)
        with service.log.open("ab") as log:
            log.write(
                f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting {service.name}\n".encode()
            )
            log.flush()
            service.process = subprocess.Popen(  # noqa: S603 - our own commands, no shell
                list(service.command),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(service.environment) or None,
                start_new_session=True,
            )
        self.services.append(service)

    def wait_ready(self, services: Sequence[Service], timeout: float) -> None:
        """Until every service answers; SupervisorError if one exits or time runs out."""
        deadline = time.monotonic() + timeout
        waiting = list(services)
        while waiting:
            for service in list(waiting):
                process = service.process
                assert process is not None
                if process.poll() is not None:
                    raise SupervisorError(
                        f"{service.name} exited with status {process.returncode} while starting; "
                        f"the end of {service.log}:\n{service.tail()}"
                    )
                if service.ready():
                    waiting.remove(service)
            if not waiting:
                return
            if self.stopping.wait(0.5):
                raise SupervisorError("stopped while starting")
            if time.monotonic() > deadline:
                names = ", ".join(s.name for s in waiting)
                raise SupervisorError(
                    f"{names} did not answer within {timeout:.0f} s; the end of "
                    f"{waiting[0].log}:\n{waiting[0].tail()}"
                )

    def watch(self) -> Service | None:
        """Block until a stop signal (None) or until a service exits (that service)."""
        while not self.stopping.wait(1.0):
            for service in self.services:
                if service.process is not None and service.process.poll() is not None:
                    return service
        return None

    def stop_all(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """SIGTERM every group, newest first; SIGKILL what is left after `grace` seconds."""
        self.stopping.set()
        for service in reversed(self.services):
            _signal_group(service, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for service in reversed(self.services):
            process = service.process
            if process is None:
                continue
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                _signal_group(service, signal.SIGKILL)
                process.wait(timeout=10)
        # The leader may be gone while processes it started linger in its group.
        for service in self.services:
            _signal_group(service, signal.SIGKILL)


def _signal_group(service: Service, sig: signal.Signals) -> None:
    process = service.process
    if process is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
