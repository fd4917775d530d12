"""Real SMTP servers on localhost for the sender's tests (aiosmtpd, one thread each).

`ScriptedHandler` accepts and records every message unless its script says otherwise for the
n-th RCPT or DATA: a reply such as ``"451 4.3.0 try later"``, or `DROP` to close the connection
without answering, as a crashing relay or a cut cable would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DROP = "DROP"

Script = Callable[[int, str], str | None]  # (call number from 1, recipient) -> reply, DROP, None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    mail_options: tuple[str, ...]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)


@dataclass
class ScriptedHandler:
    on_rcpt: Script | None = None
    on_data: Script | None = None
    hide_extensions: tuple[str, ...] = ()  # e.g. ("8BITMIME",): an older relay
    received: list[Received] = field(default_factory=list)
    rcpt_calls: int = 0
    data_calls: int = 0
    connections: list[SMTP] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: Any
    ) -> Any:
        session.host_name = hostname
        with self._lock:
            if server not in self.connections:
                self.connections.append(server)
        hidden = tuple(f"250-{name}" for name in self.hide_extensions)
        return [line for line in responses if not line.startswith(hidden)]

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        with self._lock:
            self.rcpt_calls += 1
            number = self.rcpt_calls
        reply = self.on_rcpt(number, address) if self.on_rcpt else None
        if reply == DROP:
            _close(server)
            return "421 dropped"
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._lock:
            self.data_calls += 1
            number = self.data_calls
        recipient = envelope.rcpt_tos[0] if envelope.rcpt_tos else ""
        reply = self.on_data(number, recipient) if self.on_data else None
        if reply == DROP:
            # Close before answering: the client never sees a 250 for this message.
            _close(server)
            return "421 dropped"
        if reply:
            return reply
        with self._lock:
            self.received.append(
                Received(
                    mail_from=envelope.mail_from or "",
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    mail_options=tuple(envelope.mail_options),
                    data=bytes(cast(bytes, envelope.original_content or envelope.content)),
                )
            )
        return "250 OK"

    def message_ids(self) -> Counter[str]:
        return Counter(str(item.message["Message-ID"]) for item in self.received)


def _close(server: SMTP) -> None:
    if server.transport is not None:
        server.transport.close()


@dataclass
class Server:
    host: str
    port: int
    handler: ScriptedHandler
    controller: Controller

    def drop_all_connections(self) -> None:
        """Close every open client connection from the server side (an idle timeout)."""
        loop = self.controller.loop
        for protocol in list(self.handler.connections):
            transport = protocol.transport
            if transport is not None:
                loop.call_soon_threadsafe(transport.close)
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0.05), loop).result(timeout=5)


@contextmanager
def smtp_server(handler: ScriptedHandler | None = None, **options: Any) -> Iterator[Server]:
    handler = handler or ScriptedHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield Server(host="127.0.0.1", port=port, handler=handler, controller=controller)
    finally:
        controller.stop()


def password_checker(username: str, password: str) -> Callable[..., AuthResult]:
    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == username.encode()
            and auth_data.password == password.encode()
        )
        return AuthResult(success=ok, handled=False)

    return authenticate


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its private key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "relay.pem", directory / "relay.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
