"""The composer writes MIME by hand for speed; the standard parser must read back every field."""

from __future__ import annotations

import datetime as dt
import re
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from typing import Any, cast

import pytest

from domain.emails.mime import Composed, Composer, encoded_words, single_line
from domain.settings import Settings

DATE = dt.datetime(2025, 7, 1, 0, 0, tzinfo=dt.UTC)


def compose(settings: Settings | None = None, **fields: Any) -> Composed:
    composer = Composer(settings or Settings(_env_file=None))
    values: dict[str, Any] = {
        "to_address": "taro@owner.example",
        "to_name": "Taro Yamada",
        "subject": "Please register",
        "text": "Hello\n",
        "html": "<p>Hello</p>\n",
        "message_id": composer.new_message_id(),
        "date": DATE,
        **fields,
    }
    return composer.compose(**values)


def parse(composed: Composed) -> EmailMessage:
    return message_from_bytes(composed.data, policy=policy.default)


def parts(composed: Composed) -> tuple[str, str]:
    text, html = parse(composed).iter_parts()
    return (
        cast(EmailMessage, text).get_content().replace("\r\n", "\n"),
        cast(EmailMessage, html).get_content().replace("\r\n", "\n"),
    )


def check_wire_format(data: bytes) -> None:
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")  # no bare LF or CR
    assert b"\r" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= 998


BODIES = [
    pytest.param("Plain ASCII.\nSecond line.\n", id="ascii"),
    pytest.param("x" * 2000 + "\n", id="one-very-long-line"),
    pytest.param("trailing spaces   \nand tab\t\n.\n.leading dot\nFrom here\n", id="edge-lines"),
    pytest.param("--=_0123456789abcdef0123456789abcdef\n--\n", id="boundary-lookalike"),
    pytest.param("メールアドレスの事前登録をお願いします。\n" * 30, id="japanese"),
    pytest.param("Café Zürich — naïve résumé\n" * 5, id="latin"),
    pytest.param("windows\r\nline\rendings\r\n", id="crlf-and-cr"),
    pytest.param("nul\x00 and form feed\x0c inside\n", id="control-characters"),
    pytest.param("no final newline", id="no-final-newline"),
    pytest.param("", id="empty"),
    pytest.param("=?utf-8?q?not_a_word?= = signs =3D\n", id="equals-signs"),
    pytest.param("emoji 😀 and 𠮷\n", id="astral"),
]


@pytest.mark.parametrize("body", BODIES)
def test_bodies_read_back_exactly(body: str) -> None:
    composed = compose(text=body, html=f"<pre>{body}</pre>")
    check_wire_format(composed.data)
    expected = body.replace("\r\n", "\n").replace("\r", "\n")
    if not expected.endswith("\n"):
        expected += "\n"
    text, html = parts(composed)
    assert text == expected
    assert html == f"<pre>{body}</pre>".replace("\r\n", "\n").replace("\r", "\n") + (
        "" if f"<pre>{body}</pre>".endswith("\n") else "\n"
    )


def test_encoding_follows_the_content() -> None:
    def encoding(body: str, eight_bit: bool = False) -> str:
        text, _ = parse(compose(text=body, eight_bit=eight_bit)).iter_parts()
        return str(text["Content-Transfer-Encoding"])

    assert encoding("short ascii lines\n") == "7bit"
    assert encoding("a" * 1200 + "\n") == "quoted-printable"
    assert encoding("Café au lait, mostly ASCII\n") == "quoted-printable"
    assert encoding("日本語の本文です。\n" * 10) == "base64"
    # With 8BITMIME, UTF-8 goes as it is, unless a line is too long for SMTP.
    assert encoding("short ascii lines\n", eight_bit=True) == "7bit"
    assert encoding("日本語の本文です。\n" * 10, eight_bit=True) == "8bit"
    assert encoding("日本語" * 400 + "\n", eight_bit=True) == "base64"
    assert encoding("nul\x00\n", eight_bit=True) == "quoted-printable"


@pytest.mark.parametrize("body", BODIES)
def test_eight_bit_bodies_read_back_exactly(body: str) -> None:
    composed = compose(text=body, eight_bit=True)
    check_wire_format(composed.data)
    expected = body.replace("\r\n", "\n").replace("\r", "\n")
    assert parts(composed)[0] == (expected if expected.endswith("\n") else expected + "\n")
    text, _ = parse(composed).iter_parts()
    assert composed.eight_bit == (text["Content-Transfer-Encoding"] == "8bit")


def test_encoded_words_stay_short_and_whole() -> None:
    for text in ("【重要】" * 30, "Zürich – " * 30, "😀" * 40, "é"):
        words = encoded_words(text, len("Subject: "))
        # RFC 2047 §2: words of at most 75 characters, lines of at most 76.
        assert len("Subject: ") + len(words[0]) <= 76
        assert all(len(word) <= 75 for word in words)
        assert str(make_header(decode_header(" ".join(words)))) == text


SUBJECTS = [
    "Please register your email address",
    "[Web Service Portal] Action required: only 7 days left – please confirm the registered "
    "email addresses (Test Shipping 1)",
    "a_b=c?d (e) – f",
    "Reminder: " + " ".join(["register"] * 40),
    "【重要】Web Service Portal ログイン方式変更のお知らせ — メールアドレスの事前登録のお願い" * 2,
    "=?utf-8?q?looks_encoded?= but is literal",
    'Quotes " and \\ backslashes, (comments) <angles> and: colons',
    "x" * 400,
]


@pytest.mark.parametrize("subject", SUBJECTS)
def test_subjects_read_back_exactly(subject: str) -> None:
    composed = compose(subject=subject)
    check_wire_format(composed.data)
    assert parse(composed)["Subject"] == subject


NAMES = [
    "Taro Yamada",
    "Yamada, Taro (NK Shipping)",
    'Taro "The Captain" Yamada \\ Jr.',
    "山田 太郎",
    "株式会社日本海運 総務部 情報システム課 山田 太郎" * 3,
    "=?utf-8?b?5bGx55Sw?=",
    "José Müller",
]


@pytest.mark.parametrize("name", NAMES)
def test_display_names_read_back_exactly(name: str) -> None:
    composed = compose(to_name=name)
    check_wire_format(composed.data)
    [address] = parse(composed)["To"].addresses
    assert address.addr_spec == "taro@owner.example"
    if name.isascii() and "=?" not in name:
        assert address.display_name == name
    else:
        assert display_name(composed.data, "To") == name


def display_name(data: bytes, header: str) -> str:
    """The display name as RFC 2047 §6.2 reads it.

    A long name spans several encoded words, to be joined without the folding space between
    them; the standard library's address parser keeps that space (for its own output too), so
    the tests decode with `decode_header`, which follows the RFC.
    """
    value = (b"\r\n" + data).split(f"\r\n{header}: ".encode(), 1)[1].split(b" <", 1)[0]
    return str(make_header(decode_header(value.decode("ascii").replace("\r\n", ""))))


def test_without_a_name_the_header_is_the_bare_address() -> None:
    assert parse(compose(to_name=None))["To"] == "taro@owner.example"
    assert parse(compose(to_name="  \r\n "))["To"] == "taro@owner.example"


def test_the_fixed_headers() -> None:
    settings = Settings(
        _env_file=None,
        mail_from="noreply@portal.example.com",
        mail_from_name="ウェブサービスポータル (ClassNK)",
        reply_to="cch-portal@classnk.or.jp",
    )
    composed = compose(settings, message_id="<abc.123@portal.example.com>")
    mail = parse(composed)
    assert display_name(composed.data, "From") == "ウェブサービスポータル (ClassNK)"
    assert mail["From"].addresses[0].addr_spec == "noreply@portal.example.com"
    assert mail["Reply-To"] == "cch-portal@classnk.or.jp"
    assert mail["Message-ID"] == "<abc.123@portal.example.com>"
    assert mail["Date"].datetime == DATE
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["MIME-Version"] == "1.0"
    assert composed.sender == "noreply@portal.example.com"
    assert composed.recipient == "taro@owner.example"
    assert not composed.smtputf8
    assert mail.defects == []
    assert all(part.defects == [] for part in mail.walk())


def test_message_ids_are_unique_and_use_the_sender_domain() -> None:
    composer = Composer(Settings(_env_file=None))
    ids = {composer.new_message_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"<[^<>@\s]+@portal\.example\.com>", i) for i in ids)


def test_internationalized_recipients() -> None:
    idn_domain = compose(to_address="taro@例え.jp")
    assert (idn_domain.recipient, idn_domain.smtputf8) == ("taro@xn--r8jz45g.jp", False)
    assert idn_domain.data.isascii()
    idn_local = compose(to_address="山田@例え.jp")
    assert (idn_local.recipient, idn_local.smtputf8) == ("山田@xn--r8jz45g.jp", True)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\r\nb", "a b"),
        ("a\nBcc: x@y", "a Bcc: x@y"),
        ("a\u2028b\u0085c", "a b c"),
        ("  spaced \t out  ", "spaced out"),
        (None, ""),
    ],
)
def test_single_line(raw: str | None, clean: str) -> None:
    assert single_line(raw) == clean
