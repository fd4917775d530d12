"""The simulation's mail relay: a real SMTP server on a free local port (aiosmtpd, one thread).

The outbox sender delivers to it exactly as it would to a company relay. It plays the rest of
the internet too:

* addresses the model says do not exist are either refused at RCPT (550, the relay checks
  recipients: the message fails at once) or accepted and bounced later — a delivery status
  report (RFC 3464, quoting the message's Message-ID) lands in the bounce Maildir, for the
  bounce processing to find, as a real relay's would;
* for the people the simulation watches (everyone registered), it reads the verification link
  out of each message and hands it to the driver, which decides when, if ever, they click.

Nothing is stored but counts and those links: at 5,000 organizations the campaign alone is
tens of thousands of messages.
"""

from __future__ import annotations

import email.utils
import mailbox
import re
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from domain.clock import Clock

_TOKEN = re.compile(rb"/(verify|activate)/([A-Za-z0-9_-]{32,64})")
_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)
_SUBJECT = re.compile(rb"^Subject:[ \t]*([^\r\n]*)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Delivery:
    address: str  # lower case
    kind: str  # "verify" or "activate"
    token: str
    message_id: str | None


class SinkHandler:
    def __init__(self, bounce_dir: Path, clock: Clock) -> None:
        self.clock = clock
        self.mail_from = "no-reply@portal.example.com"  # set from the settings once known
        self.bounces = mailbox.Maildir(bounce_dir, create=True)
        self.refuse: set[str] = set()  # 550 at RCPT
        self.bounce_later: set[str] = set()  # accepted, then a delivery status report
        self.watched: set[str] = set()
        self.accepted = 0
        self.refused = 0
        self.reports = 0
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.lower() in self.refuse:
            with self._lock:
                self.refused += 1
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = bytes(envelope.original_content or b"")
        found = _MESSAGE_ID.search(content)
        message_id = found[1].decode("ascii", "replace") if found else None
        for rcpt in envelope.rcpt_tos:
            address = rcpt.lower()
            with self._lock:
                self.accepted += 1
            if address in self.bounce_later:
                self._report(address, message_id, content)
            elif address in self.watched:
                for kind, token in {(m[1], m[2]) for m in _TOKEN.finditer(content)}:
                    with self._lock:
                        self._deliveries.append(
                            Delivery(address, kind.decode(), token.decode(), message_id)
                        )
        return "250 2.0.0 OK: queued"

    def take(self) -> list[Delivery]:
        """The links delivered since the last call, in arrival order."""
        with self._lock:
            taken, self._deliveries = self._deliveries, []
        return taken

    def _report(self, address: str, message_id: str | None, original: bytes) -> None:
        now = self.clock.now()
        subject = _SUBJECT.search(original)
        headers = original.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n")
        boundary = f"report-{self.reports}-{int(now.timestamp())}"
        report = "\n".join(
            [
                "From: MAILER-DAEMON@relay.simulation.invalid (Mail Delivery System)",
                f"To: {self.mail_from}",
                "Subject: Undelivered Mail Returned to Sender",
                f"Date: {email.utils.format_datetime(now)}",
                f"Message-ID: <{boundary}@relay.simulation.invalid>",
                "Auto-Submitted: auto-replied",
                "MIME-Version: 1.0",
                "Content-Type: multipart/report; report-type=delivery-status;",
                f' boundary="{boundary}"',
                "",
                f"--{boundary}",
                "Content-Type: text/plain; charset=us-ascii",
                "",
                f"<{address}>: host mx.simulation.invalid said: 550 5.1.1 User unknown",
                "",
                f"--{boundary}",
                "Content-Type: message/delivery-status",
                "",
                "Reporting-MTA: dns; relay.simulation.invalid",
                "",
                f"Final-Recipient: rfc822; {address}",
                "Action: failed",
                "Status: 5.1.1",
                f"Diagnostic-Code: smtp; 550 5.1.1 <{address}>: User unknown",
                "",
                f"--{boundary}",
                "Content-Type: text/rfc822-headers",
                "",
            ]
        ).encode("ascii", "replace")
        quoted = headers if message_id or subject else b""
        self.bounces.add(report + b"\n" + quoted + f"\n\n--{boundary}--\n".encode())
        with self._lock:
            self.reports += 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SimulationSink:
    """The SMTP server in its thread; `start` returns once it accepts connections."""

    def __init__(self, bounce_dir: Path, clock: Clock) -> None:
        self.handler = SinkHandler(bounce_dir, clock)
        self.port = _free_port()
        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            enable_SMTPUTF8=True,
            ident="Switchover simulation relay",
        )

    def __enter__(self) -> SimulationSink:
        self.controller.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.controller.stop()
