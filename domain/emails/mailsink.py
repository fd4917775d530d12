"""The local mail sink: an SMTP server that keeps every message in a Maildir, and its reader.

Demos, rehearsals and developers point the sender at it (the default SMTP settings already do), so
no email ever leaves the machine, and the portal's demo mailbox shows what people would receive.
It accepts any sender and any recipient, and SMTPUTF8, because the sender must be exercised with
the same addresses real customers type.

The envelope is not part of the message, so the sink writes it in front of the headers: the
recipients (``X-Mailsink-Rcpt-To``, the only record of Bcc recipients), the sender
(``Return-Path``) and the time of receipt (``X-Mailsink-Received-At``).
"""

from __future__ import annotations

import builtins
import contextlib
import email.policy
import email.utils
import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage, Message, MIMEPart
from email.parser import BytesHeaderParser, BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from domain.clock import Clock, SystemClock

RCPT_TO_HEADER = "X-Mailsink-Rcpt-To"
RECEIVED_AT_HEADER = "X-Mailsink-Received-At"
PEER_HEADER = "X-Mailsink-Peer"

# What Python's mailbox.Maildir names files: <seconds>.M<microseconds>P<pid>Q<counter>.<host>.
_KEY_TIME = re.compile(r"^(\d+)\.M(\d+)P\d+Q(\d+)\.")


def _header_bytes(name: str, value: str) -> bytes:
    # The headers the sink adds may carry UTF-8 (an SMTPUTF8 recipient); that is legal in an
    # SMTPUTF8 message and the reader's parser (policy.default) decodes it.
    return f"{name}: {value}\n".encode()


def open_maildir(path: Path) -> mailbox.Maildir:
    """The Maildir at `path`, created with its parents (`mailbox` only makes the last level)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return mailbox.Maildir(path, create=True)


class MailsinkHandler:
    """The aiosmtpd handler: every DATA becomes one file in the Maildir."""

    def __init__(self, directory: Path, clock: Clock | None = None) -> None:
        self.directory = Path(directory)
        self.clock = clock or SystemClock()
        self.maildir = open_maildir(self.directory)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        trace = b"".join(
            [
                _header_bytes("Return-Path", f"<{envelope.mail_from or ''}>"),
                _header_bytes(RCPT_TO_HEADER, ",\n ".join(envelope.rcpt_tos)),
                _header_bytes(RECEIVED_AT_HEADER, email.utils.format_datetime(self.clock.now())),
                _header_bytes(PEER_HEADER, _peer(session.peer)),
            ]
        )
        # Maildir files use bare LF line endings; SMTP delivers CRLF.
        key = self.maildir.add(trace + content.replace(b"\r\n", b"\n"))
        return f"250 Message accepted for delivery as {key}"


def _peer(peer: Any) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer)


class MailsinkServer:
    """The SMTP server in a background thread; `start` returns once it accepts connections."""

    def __init__(
        self,
        directory: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 8025,
        clock: Clock | None = None,
    ) -> None:
        self.handler = MailsinkHandler(directory, clock)
        self.controller = Controller(
            self.handler,
            hostname=host,
            port=port,
            enable_SMTPUTF8=True,
            ident="Switchover mail sink",
        )

    @property
    def directory(self) -> Path:
        return self.handler.directory

    @property
    def address(self) -> tuple[str, int]:
        return self.controller.hostname, self.controller.port

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> MailsinkServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class MailSummary:
    """One line of the mailbox list."""

    id: str
    sender: str
    to: str
    subject: str
    date: datetime | None
    received_at: datetime | None
    size: int

    @property
    def sender_name(self) -> str:
        """The sender's display name, or the address when there is none."""
        name, address = email.utils.parseaddr(self.sender)
        return name or address or self.sender


@dataclass(frozen=True)
class StoredMail:
    """One message read back: the parsed message and its readable parts, decoded."""

    summary: MailSummary
    message: EmailMessage
    text: str | None
    html: str | None
    attachments: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.summary.id

    @property
    def headers(self) -> list[tuple[str, str]]:
        """Every header, decoded (encoded words, UTF-8), in the order of the file."""
        return [(name, str(value)) for name, value in self.message.items()]


class MailsinkStore:
    """Reads the sink's Maildir: newest first, filtered by recipient, one message decoded."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _maildir(self) -> mailbox.Maildir:
        return open_maildir(self.path)

    def _keys_newest_first(self, box: mailbox.Maildir) -> builtins.list[str]:
        def arrival(key: str) -> tuple[int, int, str]:
            # The key records the microsecond of delivery; file mtimes are often coarser.
            match = _KEY_TIME.match(key)
            if match:
                seconds, micros, counter = (int(g) for g in match.groups())
                return seconds * 1_000_000 + micros, counter, key
            return 0, 0, key

        return sorted(box.keys(), key=arrival, reverse=True)

    def list(
        self, limit: int = 50, offset: int = 0, to: str | None = None
    ) -> builtins.list[MailSummary]:
        """Messages newest first; `to` keeps those whose recipients contain it (any case)."""
        if limit <= 0:
            return []
        box = self._maildir()
        needle = to.strip().casefold() if to else ""
        found: builtins.list[MailSummary] = []
        skipped = 0
        for key in self._keys_newest_first(box):
            try:
                summary = self._summary(box, key)
            except KeyError:  # removed (cleared) while we were reading
                continue
            if needle and needle not in summary.to.casefold():
                continue
            if skipped < offset:
                skipped += 1
                continue
            found.append(summary)
            if len(found) == limit:
                break
        return found

    def count(self) -> int:
        return len(self._maildir())

    def raw(self, message_id: str) -> bytes | None:
        """The stored bytes of one message (trace headers included), or None."""
        try:
            return self._maildir().get_bytes(message_id)
        except KeyError:
            return None

    def get(self, message_id: str) -> StoredMail | None:
        """One message decoded, or None when there is no such id."""
        raw = self.raw(message_id)
        if raw is None:
            return None
        message = BytesParser(policy=email.policy.default).parsebytes(raw)
        text, html, attachments = _readable_parts(message)
        return StoredMail(
            summary=_summarize(message_id, message, len(raw)),
            message=message,
            text=text,
            html=html,
            attachments=attachments,
        )

    def clear(self) -> int:
        """Delete every message; returns how many there were."""
        box = self._maildir()
        removed = 0
        for key in builtins.list(box.iterkeys()):
            with contextlib.suppress(KeyError):
                box.remove(key)
                removed += 1
        return removed

    def _summary(self, box: mailbox.Maildir, key: str) -> MailSummary:
        raw = box.get_bytes(key)
        # Only the headers are parsed for the list; the bodies are left alone.
        headers = BytesHeaderParser(policy=email.policy.default).parsebytes(raw)
        return _summarize(key, headers, len(raw))


def _summarize(key: str, message: Message, size: int) -> MailSummary:
    recipients = message.get(RCPT_TO_HEADER) or ", ".join(
        str(message.get(name)) for name in ("To", "Cc") if message.get(name)
    )
    return MailSummary(
        id=key,
        sender=str(message.get("From", "")),
        to=" ".join(str(recipients).split()),
        subject=str(message.get("Subject", "")),
        date=_parse_date(message.get("Date")),
        received_at=_parse_date(message.get(RECEIVED_AT_HEADER)),
        size=size,
    )


def _parse_date(value: object) -> datetime | None:
    if value is None:
        return None
    parsed = getattr(value, "datetime", None)
    if not isinstance(parsed, datetime):
        try:
            parsed = email.utils.parsedate_to_datetime(str(value))
        except (TypeError, ValueError):
            return None
    # "-0000" (what Python's formatdate() writes) parses naive: RFC 5322 says it is UTC.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _decode(part: MIMEPart) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):
        # An unknown or lying charset: show what can be shown rather than nothing.
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def _readable_parts(message: EmailMessage) -> tuple[str | None, str | None, tuple[str, ...]]:
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    attachments = tuple(
        part.get_filename() or part.get_content_type() for part in _attachments(message)
    )
    return (
        _decode(text_part) if text_part is not None else None,
        _decode(html_part) if html_part is not None else None,
        attachments,
    )


def _attachments(message: EmailMessage) -> Iterator[MIMEPart]:
    if message.is_multipart():
        yield from message.iter_attachments()
