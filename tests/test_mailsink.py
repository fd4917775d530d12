"""The local mail sink (a real SMTP server, real smtplib clients) and the portal's demo mailbox."""

from __future__ import annotations

import datetime as dt
import html
import re
import smtplib
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from domain.clock import FixedClock
from domain.emails.mailsink import RCPT_TO_HEADER, MailsinkServer, MailsinkStore
from domain.settings import Settings
from portal.app import create_app

JST = dt.timezone(dt.timedelta(hours=9))
RECEIVED = dt.datetime(2025, 7, 1, 9, 0, tzinfo=JST)
JAPANESE_SUBJECT = "【ご確認】メールアドレスの事前登録"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def sink_clock() -> FixedClock:
    return FixedClock(RECEIVED)


@pytest.fixture
def sink(tmp_path: Path, sink_clock: FixedClock) -> Iterator[MailsinkServer]:
    server = MailsinkServer(tmp_path / "sink", port=_free_port(), clock=sink_clock)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _send(server: MailsinkServer, message: EmailMessage, **kwargs: object) -> None:
    host, port = server.address
    with smtplib.SMTP(host, port, timeout=10) as client:
        client.send_message(message, **kwargs)  # type: ignore[arg-type]


def _confirmation_ja() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Webサービスポータル <no-reply@portal.example.com>"
    message["To"] = "田中 由紀 <yuki.tanaka@tokai-kisen.example>"
    message["Subject"] = JAPANESE_SUBJECT
    message["Message-ID"] = make_msgid(domain="portal.example.com")
    message.set_content(
        "田中 由紀 様\n\n下記のリンクからご確認ください。\nhttps://portal.example.com/verify/abc\n",
        charset="iso-2022-jp",
    )
    message.add_alternative(
        '<p>田中 由紀 様</p><p><a href="https://portal.example.com/verify/abc?x=1&amp;y=2">'
        "確認する</a></p><script>alert('x')</script>",
        subtype="html",
    )
    return message


def _plain(to: str, subject: str, body: str = "Hello.\n") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Web Service Portal <no-reply@portal.example.com>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def test_a_japanese_multipart_message_is_kept_and_read_back_decoded(
    sink: MailsinkServer,
) -> None:
    raw_message = _confirmation_ja()
    # The subject travels as RFC 2047 encoded words, the text as ISO-2022-JP.
    assert "=?utf-8?" in raw_message.as_string()
    _send(sink, raw_message, to_addrs=["yuki.tanaka@tokai-kisen.example", "audit@portal.example"])

    store = MailsinkStore(sink.directory)
    [summary] = store.list()
    assert summary.subject == JAPANESE_SUBJECT
    assert summary.sender == "Webサービスポータル <no-reply@portal.example.com>"
    assert summary.to == "yuki.tanaka@tokai-kisen.example, audit@portal.example"
    assert summary.received_at == RECEIVED
    assert summary.size > 0

    mail = store.get(summary.id)
    assert mail is not None
    assert mail.text is not None and "下記のリンクからご確認ください。" in mail.text
    assert mail.html is not None and "確認する" in mail.html
    assert mail.message.get_content_type() == "multipart/alternative"
    headers = dict(mail.headers)
    assert headers["Return-Path"] == "<no-reply@portal.example.com>"
    assert headers[RCPT_TO_HEADER] == "yuki.tanaka@tokai-kisen.example, audit@portal.example"


def test_smtputf8_recipient_is_accepted_and_filterable(sink: MailsinkServer) -> None:
    message = _plain("担当者 <担当@例え.jp>", "UTF-8 address")
    _send(sink, message, mail_options=["SMTPUTF8"])
    _send(sink, _plain("someone@elsewhere.example", "other"))

    store = MailsinkStore(sink.directory)
    [found] = store.list(to="担当@例え")
    assert found.to == "担当@例え.jp"
    assert found.subject == "UTF-8 address"
    mail = store.get(found.id)
    assert mail is not None
    assert str(mail.message["To"]) == "担当者 <担当@例え.jp>"


def test_list_is_newest_first_paginated_and_filtered_by_recipient(
    sink: MailsinkServer, sink_clock: FixedClock
) -> None:
    for number in range(5):
        to = f"Person{number}@Fleet-{number % 2}.example"
        _send(sink, _plain(to, f"Reminder {number}"))
        sink_clock.advance(minutes=1)

    store = MailsinkStore(sink.directory)
    assert [m.subject for m in store.list()] == [f"Reminder {n}" for n in (4, 3, 2, 1, 0)]
    assert [m.subject for m in store.list(limit=2, offset=2)] == ["Reminder 2", "Reminder 1"]
    assert store.list(limit=2, offset=10) == []
    # Case does not matter, and the filter applies before the page is cut.
    assert [m.subject for m in store.list(to="FLEET-1")] == ["Reminder 3", "Reminder 1"]
    assert [m.subject for m in store.list(limit=1, offset=1, to="fleet-0")] == ["Reminder 2"]
    assert store.list()[0].received_at == RECEIVED + dt.timedelta(minutes=4)
    assert store.count() == 5


def test_get_unknown_id_and_clear(sink: MailsinkServer) -> None:
    _send(sink, _plain("a@example.com", "one"))
    _send(sink, _plain("b@example.com", "two"))
    store = MailsinkStore(sink.directory)
    assert store.get("1234.M1P1Q1.nohost") is None
    assert store.get("../../etc/passwd") is None
    assert store.raw("nope") is None
    assert store.clear() == 2
    assert store.list() == []


def test_an_unknown_charset_is_shown_rather_than_failing(sink: MailsinkServer) -> None:
    raw = (
        b"From: old-system@example.com\r\nTo: a@example.com\r\nSubject: legacy\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\nCaf\xc3\xa9 ok\r\n"
    )
    host, port = sink.address
    with smtplib.SMTP(host, port, timeout=10) as client:
        client.sendmail("old-system@example.com", ["a@example.com"], raw)
    store = MailsinkStore(sink.directory)
    mail = store.get(store.list()[0].id)
    assert mail is not None
    assert mail.text == "Café ok\n"
    assert mail.html is None


# --- the portal's demo mailbox -------------------------------------------------------------


def _portal(settings: Settings, directory: Path, *, demo_mode: bool) -> TestClient:
    configured = settings.model_copy(update={"demo_mode": demo_mode, "mailsink_dir": directory})
    return TestClient(create_app(configured))


def test_mailbox_lists_filters_and_pages(sink: MailsinkServer, settings: Settings) -> None:
    for number in range(27):
        _send(sink, _plain(f"person{number}@fleet-{number % 3}.example", f"Reminder {number}"))
    _send(sink, _confirmation_ja())
    client = _portal(settings, sink.directory, demo_mode=True)

    first = client.get("/mailbox")
    assert first.status_code == 200
    assert JAPANESE_SUBJECT in first.text
    assert "28 in all" in first.text
    assert "Reminder 26" in first.text and "Reminder 2<" not in first.text
    assert 'href="http://testserver/mailbox?page=2"' in first.text

    second = client.get("/mailbox", params={"page": 2})
    assert "Reminder 2<" in second.text and "Reminder 0<" in second.text
    assert "Older" not in second.text and "Newer" in second.text

    filtered = client.get("/mailbox", params={"to": "fleet-2"})
    subjects = re.findall(r">(Reminder \d+)</a>", filtered.text)
    assert subjects == [f"Reminder {n}" for n in (26, 23, 20, 17, 14, 11, 8, 5, 2)]
    assert 'value="fleet-2"' in filtered.text

    nothing = client.get("/mailbox", params={"to": "nobody-here"})
    assert "No messages to an address containing" in nothing.text


def test_mailbox_shows_one_message_with_the_html_sandboxed(
    sink: MailsinkServer, settings: Settings
) -> None:
    _send(sink, _confirmation_ja())
    store = MailsinkStore(sink.directory)
    message_id = store.list()[0].id
    client = _portal(settings, sink.directory, demo_mode=True)

    page = client.get(f"/mailbox/{message_id}")
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    text = page.text
    assert JAPANESE_SUBJECT in text

    [iframe] = re.findall(r"<iframe[^>]*>", text)
    sandbox = re.search(r'sandbox="([^"]*)"', iframe)
    assert sandbox is not None
    assert "allow-popups" in sandbox.group(1).split()
    assert "allow-scripts" not in sandbox.group(1)
    assert "allow-same-origin" not in sandbox.group(1)
    # The markup is escaped into the attribute: no tag of the email reaches the page itself,
    # and unescaping the attribute gives back exactly what the browser will render.
    srcdoc = re.search(r'srcdoc="([^"]*)"', iframe)
    assert srcdoc is not None
    assert "<script>" not in text
    document = html.unescape(srcdoc.group(1))
    assert document.startswith('<base target="_blank">')
    assert "<script>alert('x')</script>" in document
    assert 'href="https://portal.example.com/verify/abc?x=1&amp;y=2"' in document

    # The text version, with its link clickable.
    assert "下記のリンクからご確認ください。" in text
    assert (
        '<a href="https://portal.example.com/verify/abc" target="_blank" '
        'rel="noopener noreferrer">' in text
    )

    raw = client.get(f"/mailbox/{message_id}/raw")
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("text/plain")
    assert f"{RCPT_TO_HEADER}: yuki.tanaka@tokai-kisen.example" in raw.text

    assert client.get("/mailbox/no-such-message").status_code == 404
    assert client.get("/mailbox/no-such-message/raw").status_code == 404


def test_mailbox_does_not_exist_outside_demo_mode(sink: MailsinkServer, settings: Settings) -> None:
    _send(sink, _plain("a@example.com", "private"))
    message_id = MailsinkStore(sink.directory).list()[0].id
    client = _portal(settings, sink.directory, demo_mode=False)
    for path in ("/mailbox", f"/mailbox/{message_id}", f"/mailbox/{message_id}/raw"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "private" not in response.text


def test_empty_mailbox_says_how_to_fill_it(tmp_path: Path, settings: Settings) -> None:
    client = _portal(settings, tmp_path / "empty-sink", demo_mode=True)
    page = client.get("/mailbox")
    assert page.status_code == 200
    assert "The mailbox is empty." in page.text
    assert "switchover mailsink" in page.text


def test_store_creates_missing_parent_folders(tmp_path: Path) -> None:
    # A fresh clone has no var/: the demo mailbox must show an empty list, not fail.
    store = MailsinkStore(tmp_path / "var" / "deep" / "mailsink")
    assert store.list(limit=10, offset=0) == []
    assert (tmp_path / "var" / "deep" / "mailsink" / "new").is_dir()
