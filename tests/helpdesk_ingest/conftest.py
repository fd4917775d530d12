"""Fixtures of the helpdesk-ingest tests: a real IMAP server, a Maildir, emails as bytes."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.conftest import DEFAULT_NOW
from tests.helpdesk_ingest.dovecot import Dovecot, dovecot_server


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    with dovecot_server() as server:
        yield server


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    path = tmp_path / "support"
    mailbox.Maildir(path, create=True)
    return path


def email_bytes(
    *,
    sender: str = "Taro Yamada <taro@owner.example>",
    subject: str = "Question",
    text: str = "Hello",
    message_id: str | None = "<q1@owner.example>",
    in_reply_to: str | None = None,
    references: str | None = None,
    charset: str = "utf-8",
    html: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "cch-portal@classnk.or.jp"
    message["Subject"] = subject
    message["Date"] = format_datetime(DEFAULT_NOW)
    if message_id:
        message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    if html is not None and not text:
        message.set_content(html, subtype="html", charset=charset)
    else:
        message.set_content(text, charset=charset)
        if html is not None:
            message.add_alternative(html, subtype="html")
    return message.as_bytes()


def deliver(path: Path, raw: bytes) -> str:
    return mailbox.Maildir(path, create=False).add(raw)
