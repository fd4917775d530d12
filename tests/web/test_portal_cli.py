"""`switchover portal`: refuses a database it cannot use in one line, and serves the site."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from cli.portal_cmd import _PortalConfig
from db import schema
from db.engine import make_engine
from tests.web.test_portal_browser import free_port

SWITCHOVER = Path(sys.executable).with_name("switchover")


def _env(database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHOVER_")}
    env["SWITCHOVER_DATABASE_URL"] = f"sqlite:///{database}"
    return env


def test_an_unmigrated_database_is_refused_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(SWITCHOVER), "portal", "--port", str(free_port())],
        cwd=tmp_path,
        env=_env(tmp_path / "empty.db"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: the database has no Switchover schema yet; run `switchover db upgrade`"
    )


@pytest.mark.slow
def test_the_command_serves_the_portal(tmp_path: Path) -> None:
    database = tmp_path / "portal.db"
    engine = make_engine(f"sqlite:///{database}")
    schema.upgrade(engine)
    engine.dispose()
    port = free_port()
    process = subprocess.Popen(
        [str(SWITCHOVER), "portal", "--port", str(port), "--log-level", "warning"],
        cwd=tmp_path,
        env=_env(database),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "the portal did not start"
                time.sleep(0.2)
        assert health.json() == {"status": "ok", "database": "ok"}
        home = httpx.get(f"http://127.0.0.1:{port}/", headers={"Accept-Language": "ja"})
        assert "事前登録" in home.text
        assert "server" not in home.headers  # no version banner
        # The generated session key is kept for the next start and for the other workers.
        key = tmp_path / "var" / "portal_secret_key"
        assert key.stat().st_mode & 0o777 == 0o600
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def test_the_socket_workers_share_gives_connections_tcp_nodelay() -> None:
    # With Nagle's algorithm on, a response whose body is written after its headers waits for
    # the client's delayed ACK: ~40 ms per keep-alive request with --workers 2 and more.
    config = _PortalConfig("portal.app:create_app", factory=True, host="127.0.0.1", port=0)
    listener = config.bind_socket()
    assert listener.proto == socket.IPPROTO_TCP

    async def accepted_nodelay() -> int:
        loop = asyncio.get_running_loop()
        nodelay: asyncio.Future[int] = loop.create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                accepted = transport.get_extra_info("socket")
                nodelay.set_result(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await loop.create_server(Probe, sock=listener)
        _, writer = await asyncio.open_connection(*listener.getsockname()[:2])
        try:
            return await asyncio.wait_for(nodelay, 10)
        finally:
            writer.close()
            server.close()
            await server.wait_closed()

    assert asyncio.run(accepted_nodelay()) != 0
