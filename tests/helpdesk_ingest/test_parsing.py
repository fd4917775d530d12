"""Parsing messy customer mail: encodings, HTML only, no Message-ID, quoted history."""

from __future__ import annotations

import datetime as dt

from domain.helpdesk_ingest.parsing import (
    base_subject,
    html_to_text,
    parse,
    quick_message_id,
    strip_quoted,
    synthetic_message_id,
)
from tests.helpdesk_ingest.conftest import email_bytes


def test_a_plain_message() -> None:
    mail = parse(email_bytes(text="We cannot log in.\n"))
    assert mail.message_id == "<q1@owner.example>"
    assert (mail.from_name, mail.from_address) == ("Taro Yamada", "taro@owner.example")
    assert mail.subject == "Question"
    assert mail.text == "We cannot log in."
    assert mail.date == dt.datetime(2025, 7, 1, 0, 0, tzinfo=dt.UTC)
    assert not mail.auto_generated
    assert not mail.looks_like_reply


def test_iso_2022_jp_is_decoded() -> None:
    raw = email_bytes(
        subject="ログインできません",
        text="お世話になっております。ログインできません。\n",
        charset="iso-2022-jp",
    )
    assert b"\x1b$B" in raw  # really ISO-2022-JP on the wire
    mail = parse(raw)
    assert mail.subject == "ログインできません"
    assert "ログインできません" in mail.text


def test_an_html_only_message_becomes_text_without_the_quoted_part() -> None:
    html = (
        "<html><head><style>p{color:red}</style></head><body><p>Link <b>expired</b>.</p>"
        "<blockquote>On Monday you wrote: old text</blockquote></body></html>"
    )
    mail = parse(email_bytes(text="", html=html))
    assert mail.text == "Link expired."


def test_without_message_id_the_id_is_derived_from_the_bytes() -> None:
    raw = email_bytes(message_id=None)
    mail = parse(raw)
    assert mail.message_id == synthetic_message_id(raw)
    assert parse(raw).message_id == mail.message_id  # reading it again finds the same id


def test_reply_headers_and_subject() -> None:
    mail = parse(
        email_bytes(
            subject="RE: Re: 返信: Question",
            in_reply_to="<a@x>",
            references="<root@x> <a@x>",
            message_id="<r@y>",
        )
    )
    assert mail.looks_like_reply
    assert mail.thread_ids == ("<a@x>", "<root@x>")
    assert base_subject(mail.subject) == "question"


def test_quoted_history_is_cut() -> None:
    text = "Thanks, it works now.\n\nOn Tue, 1 Jul 2025 at 09:00, Helpdesk wrote:\n> old\n> older\n"
    assert strip_quoted(text).strip() == "Thanks, it works now."
    outlook = "Please add Sato.\n\n________________________________\nFrom: Helpdesk\nSent: ...\n"
    assert strip_quoted(outlook).strip() == "Please add Sato."
    japanese = "承知しました。\n\n2025年7月1日(火) 9:00 Helpdesk <cch@example>:\n> 以前の本文\n"
    assert strip_quoted(japanese).strip() == "承知しました。"


def test_automatic_messages_are_recognized() -> None:
    assert parse(email_bytes(headers={"Auto-Submitted": "auto-replied"})).auto_generated
    assert parse(email_bytes(headers={"Precedence": "bulk"})).auto_generated
    assert parse(email_bytes(sender="MAILER-DAEMON@mx.example")).auto_generated
    assert not parse(email_bytes(headers={"Auto-Submitted": "no"})).auto_generated


def test_unknown_charset_does_not_raise() -> None:
    raw = (
        b"From: a@owner.example\r\nSubject: x\r\nMessage-ID: <c@x>\r\n"
        b"Content-Type: text/plain; charset=x-unknown-charset\r\n\r\nhello \xff\r\n"
    )
    mail = parse(raw)
    assert mail.text.startswith("hello")


def test_html_to_text_keeps_blocks_apart() -> None:
    assert html_to_text("<p>a</p><p>b<br>c</p>") == "a\n\nb\nc"


def test_the_quick_message_id_is_the_one_the_full_parse_finds() -> None:
    samples = [
        email_bytes(),
        email_bytes(message_id=None),
        email_bytes(message_id="<" + "x" * 400 + "@long.example>"),
        b"From: a@b.example\r\nMessage-Id:\r\n  <folded@b.example>\r\nSubject: s\r\n\r\nbody\r\n",
        b"From: a@b.example\nSubject: s\n\nMessage-ID: <in-the-body@b.example>\n",
        b"message-id: <lower@b.example>\n\nx",
    ]
    for raw in samples:
        assert quick_message_id(raw) == parse(raw).message_id
