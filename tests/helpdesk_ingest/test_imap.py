"""The support mailbox on a real IMAP server (Dovecot): read once, left as agents see it."""

from __future__ import annotations

import re

import pytest
from imapclient import IMAPClient  # type: ignore[import-untyped]
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import HelpdeskContact
from domain.context import App
from domain.helpdesk_ingest.mailboxes import (
    INGESTED_KEYWORD,
    ImapMailbox,
    MailboxError,
    open_mailbox,
)
from domain.helpdesk_ingest.run import ingest_mailbox
from tests.helpdesk_ingest.conftest import email_bytes
from tests.helpdesk_ingest.dovecot import Dovecot


def client(server: Dovecot) -> IMAPClient:
    imap = IMAPClient(server.host, port=server.port, ssl=False, timeout=10)
    imap.login(server.username, server.password)
    return imap


@pytest.fixture
def inbox(dovecot: Dovecot) -> IMAPClient:
    imap = client(dovecot)
    imap.select_folder("INBOX")
    existing = imap.search(["ALL"])
    if existing:
        imap.delete_messages(existing)
        imap.expunge()
    return imap


def connect(server: Dovecot, **overrides: object) -> ImapMailbox:
    arguments: dict[str, object] = {
        "username": server.username,
        "password": server.password,
        "port": server.port,
        "security": "none",
        "timeout": 10.0,
    }
    arguments.update(overrides)
    return ImapMailbox.connect(server.host, **arguments)  # type: ignore[arg-type]


def stored(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(HelpdeskContact)) or 0)


def test_messages_are_read_once_and_stay_unread_for_the_agents(
    app: App, session: Session, dovecot: Dovecot, inbox: IMAPClient
) -> None:
    inbox.append("INBOX", email_bytes(subject="Cannot log in", message_id="<i1@owner.example>"))
    inbox.append(
        "INBOX",
        email_bytes(
            subject="ユーザー追加",
            text="追加登録をお願いします",
            message_id="<i2@x>",
            charset="iso-2022-jp",
        ),
    )
    mailbox = connect(dovecot)
    assert mailbox.keeps_keywords
    try:
        summary = ingest_mailbox(app, mailbox)
    finally:
        mailbox.close()
    assert (summary.read, summary.new_contacts) == (2, 2)
    assert dict(summary.categories) == {"cannot_log_in": 1, "add_or_remove_user": 1}
    assert stored(session) == 2

    inbox.select_folder("INBOX")
    flags = inbox.get_flags(inbox.search(["ALL"]))
    for message_flags in flags.values():
        assert INGESTED_KEYWORD.encode() in message_flags
        assert b"\\Seen" not in message_flags  # the agents still see them as unread

    # The next run asks only for what is new.
    inbox.append(
        "INBOX",
        email_bytes(
            subject="Re: Cannot log in",
            message_id="<i3@owner.example>",
            in_reply_to="<i1@owner.example>",
        ),
    )
    again = open_mailbox(
        app.settings.model_copy(
            update={
                "helpdesk_imap_host": dovecot.host,
                "helpdesk_imap_port": dovecot.port,
                "helpdesk_imap_security": "none",
                "helpdesk_imap_username": dovecot.username,
                "helpdesk_imap_password": SecretStr(dovecot.password),
            }
        )
    )
    try:
        second = ingest_mailbox(app, again)
    finally:
        again.close()
    assert (second.read, second.new_contacts, second.replies) == (1, 0, 1)
    assert stored(session) == 3


def test_a_dry_run_leaves_the_mailbox_unflagged(
    app: App, session: Session, dovecot: Dovecot, inbox: IMAPClient
) -> None:
    inbox.append("INBOX", email_bytes(message_id="<d1@x>"))
    mailbox = connect(dovecot)
    try:
        assert ingest_mailbox(app, mailbox, dry_run=True).new_contacts == 1
        assert ingest_mailbox(app, mailbox, dry_run=True).read == 1
    finally:
        mailbox.close()
    assert stored(session) == 0


def test_wrong_password_and_missing_folder_are_clear_errors(dovecot: Dovecot) -> None:
    with pytest.raises(MailboxError, match=re.escape("cannot log in to imap://support@127.0.0.1")):
        connect(dovecot, password="wrong")
    with pytest.raises(MailboxError, match="cannot open folder 'Nowhere'"):
        connect(dovecot, folder="Nowhere")


def test_an_unreachable_server_is_a_clear_error() -> None:
    with pytest.raises(
        MailboxError, match=re.escape("cannot connect to imap://u@127.0.0.1:1/INBOX")
    ):
        ImapMailbox.connect(
            "127.0.0.1", username="u", password="p", port=1, security="none", timeout=2
        )


def test_settings_without_credentials_are_refused(app: App) -> None:
    settings = app.settings.model_copy(update={"helpdesk_imap_host": "imap.example.com"})
    with pytest.raises(MailboxError, match="SWITCHOVER_HELPDESK_IMAP_USERNAME"):
        open_mailbox(settings)
    with pytest.raises(MailboxError, match="no support mailbox"):
        open_mailbox(app.settings)
