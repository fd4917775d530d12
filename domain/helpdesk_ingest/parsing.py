"""A raw email from the support mailbox, read into what the helpdesk needs.

Mail from customers is messy: ISO-2022-JP and Shift_JIS bodies, HTML-only messages, a missing
Message-ID, headers in encodings that do not decode, whole conversations quoted under a one-line
answer. Parsing never raises on content: what cannot be decoded is replaced, a message without
Message-ID gets one derived from its bytes (so reading it twice still finds it twice the same),
and the quoted history is cut off the text kept for the request (the mailbox still holds it all).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import hashlib
import re
from dataclasses import dataclass
from email.message import EmailMessage, Message
from html.parser import HTMLParser

MAX_MESSAGE_ID = 300  # the column's width
MAX_TEXT = 50_000  # characters of text kept per message; longer text is cut with a note
SYNTHETIC_DOMAIN = "no-message-id.switchover.invalid"

_MSGID = re.compile(r"<[^<>\s]+>")
_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|wg|sv|vs|antw|tr|rif|返信|転送)\s*(?:\[\d+\])?\s*[:：]\s*)+",
    re.IGNORECASE,
)
_QUOTE_HEADERS = (
    re.compile(r"^on\b.{0,200}\bwrote:\s*$", re.IGNORECASE),
    re.compile(r"^-{2,}\s*(?:original message|forwarded message)\s*-{2,}", re.IGNORECASE),
    re.compile(r"^-{2,}\s*(?:元のメッセージ|転送メッセージ)\s*-{2,}"),
    re.compile(r"^_{20,}\s*$"),
    re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日.{0,120}(?:wrote|書きました|:)\s*$"),
    re.compile(r"^(?:from|差出人|送信者)\s*[:：].+$", re.IGNORECASE),
)
_AUTO_SENDERS = re.compile(r"^(?:mailer-daemon|postmaster|no-?reply|do-?not-?reply)@", re.I)


@dataclass(frozen=True)
class IncomingMail:
    message_id: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    from_name: str | None
    from_address: str | None  # as written; may not be a valid address
    subject: str | None
    date: dt.datetime | None  # aware, from the Date header
    text: str  # the new text of the message, without the quoted history
    attachments: tuple[str, ...]
    auto_generated: bool  # a bounce, an auto-reply, a list message: never acknowledged

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Message-IDs this message answers, nearest first (In-Reply-To, then References)."""
        seen: list[str] = []
        for mid in (*self.in_reply_to, *reversed(self.references)):
            if mid not in seen:
                seen.append(mid)
        return tuple(seen)

    @property
    def looks_like_reply(self) -> bool:
        return bool(self.subject and _REPLY_PREFIX.match(self.subject))


def base_subject(subject: str | None) -> str:
    """The subject without Re:/Fwd:/返信: prefixes, whitespace collapsed, case-folded."""
    text = _REPLY_PREFIX.sub("", subject or "")
    return " ".join(text.split()).casefold()


def message_ids(value: object) -> tuple[str, ...]:
    found = _MSGID.findall(str(value or ""))
    return tuple(normalize_message_id(m) for m in found)


def normalize_message_id(value: str) -> str:
    text = value.strip()
    if not text.startswith("<"):
        text = f"<{text.strip('<>')}>"
    if len(text) > MAX_MESSAGE_ID:
        digest = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()
        text = f"<sha256.{digest}@long-message-id.switchover.invalid>"
    return text


def synthetic_message_id(raw: bytes) -> str:
    return f"<sha256.{hashlib.sha256(raw).hexdigest()}@{SYNTHETIC_DOMAIN}>"


_HEADER_END = re.compile(rb"\r?\n\r?\n")
_MESSAGE_ID_HEADER = re.compile(rb"^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.M)


def quick_message_id(raw: bytes) -> str:
    """The Message-ID `parse` would find, from the header block alone (no MIME parsing).

    Lets a reader skip messages it has stored before without decoding them; when the two ever
    disagree (a header the full parser reads otherwise), the full parse decides.
    """
    end = _HEADER_END.search(raw)
    found = _MESSAGE_ID_HEADER.search(raw[: end.start() if end else len(raw)])
    if found:
        ids = message_ids(found[1].decode("ascii", "replace"))
        if ids:
            return ids[0]
    return synthetic_message_id(raw)


def parse(raw: bytes) -> IncomingMail:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    own_ids = message_ids(_header(message, "Message-ID"))
    name, address = _sender(message)
    subject = " ".join(_header(message, "Subject").split()) or None
    text, attachments = _text(message)
    return IncomingMail(
        message_id=own_ids[0] if own_ids else synthetic_message_id(raw),
        in_reply_to=message_ids(_header(message, "In-Reply-To")),
        references=message_ids(_header(message, "References")),
        from_name=name,
        from_address=address,
        subject=subject[:500] if subject else None,
        date=_date(_header(message, "Date")),
        text=text,
        attachments=attachments,
        auto_generated=_auto_generated(message, address),
    )


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header the parser cannot make sense of reads as absent
        return ""
    return "" if value is None else str(value)


def _sender(message: Message) -> tuple[str | None, str | None]:
    for header in ("From", "Sender", "Reply-To"):
        raw = _header(message, header)
        if not raw:
            continue
        name, address = email.utils.parseaddr(raw)
        if address:
            return (" ".join(name.split()) or None), address.strip()
    return None, None


def _date(value: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        return None  # "-0000": the zone is unknown, so the instant is too
    return parsed.astimezone(dt.UTC)


def _auto_generated(message: Message, address: str | None) -> bool:
    auto = _header(message, "Auto-Submitted").strip().lower()
    precedence = _header(message, "Precedence").strip().lower()
    return (
        (bool(auto) and auto != "no")
        or precedence in ("bulk", "junk", "list", "auto_reply")
        or bool(_header(message, "List-Id"))
        or bool(_header(message, "X-Autoreply") or _header(message, "X-Autorespond"))
        or message.get_content_type() == "multipart/report"
        or bool(address and _AUTO_SENDERS.match(address))
    )


def _decoded(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, ValueError, AssertionError):
        pass
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:  # a charset Python does not know
        return payload.decode("utf-8", "replace")


def _text(message: EmailMessage) -> tuple[str, tuple[str, ...]]:
    attachments = tuple(
        " ".join(str(part.get_filename()).split())
        for part in message.walk()
        if part.get_filename() and not part.is_multipart()
    )
    body: Message | None
    try:
        body = message.get_body(preferencelist=("plain", "html"))
    except Exception:
        body = None
    if body is None and not message.is_multipart():
        body = message
    if body is None:
        text = ""
    elif body.get_content_type() == "text/html":
        text = html_to_text(_decoded(body))
    else:
        text = _decoded(body)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = strip_quoted(text).strip() or text.strip()
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + "\n[… cut here: the full message is in the mailbox]"
    return text, attachments


def strip_quoted(text: str) -> str:
    """The text above the quoted history ("On … wrote:", "> " lines, Outlook's header block)."""
    kept: list[str] = []
    for line in text.split("\n"):
        stripped = line.strip()
        if any(pattern.match(stripped) for pattern in _QUOTE_HEADERS):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept)


class _TextOfHtml(HTMLParser):
    _BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "table", "hr"})
    # Quoted history sits in <blockquote> in most web mail; the request is what is above it.
    _SKIP = frozenset({"script", "style", "head", "title", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(self._skipping - 1, 0)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
