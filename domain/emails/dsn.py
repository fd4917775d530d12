"""Reading delivery status notifications: which addresses failed, permanently or not, and why.

Standard reports (RFC 3464: multipart/report with a message/delivery-status part) are read here
field by field, because the Status code is what separates a dead mailbox (5.x.x) from a full
one or an unreachable server (4.x.x), and flufl.bounce's DSN detector only looks at the Action.
The many non-standard forms (older Exchange, qmail, Yahoo, …) are left to flufl.bounce's
heuristic detectors, which report addresses without codes.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.utils import parseaddr

from flufl.bounce import all_failures

DIAGNOSTIC_LENGTH = 200

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_ADDRESS_TYPE = re.compile(r"^\s*[A-Za-z0-9-]+\s*;\s*")


@dataclass(frozen=True)
class Failure:
    """One recipient a report says was not delivered."""

    address: str
    permanent: bool
    status: str | None  # the enhanced status code, e.g. "5.1.1"
    diagnostic: str | None  # one line, short enough to show in a table

    @property
    def reason(self) -> str:
        """What to tell a person: the code and the remote server's words, short."""
        parts = [p for p in (self.status, self.diagnostic) if p]
        if not parts:
            return "permanent failure" if self.permanent else "delivery delayed"
        if self.status and self.diagnostic and self.status in self.diagnostic:
            parts = [self.diagnostic]
        return _shorten(" ".join(parts))


@dataclass(frozen=True)
class DeliveryReport:
    """What one bounce message says; `failures` is empty for a success-only DSN."""

    failures: tuple[Failure, ...]
    original_message_id: str | None  # of the message that bounced, when the report quotes it
    report_message_id: str | None  # of the report itself

    @property
    def permanent(self) -> tuple[Failure, ...]:
        return tuple(f for f in self.failures if f.permanent)

    @property
    def temporary(self) -> tuple[Failure, ...]:
        return tuple(f for f in self.failures if not f.permanent)


def parse_report(message: Message) -> DeliveryReport | None:
    """The report in `message`, or None when it is not a bounce (a reply, an auto-responder…)."""
    failures: dict[str, Failure] = {}
    is_dsn = _is_dsn(message)
    for block in _recipient_blocks(message):
        is_dsn = True
        failure = _failure_from_block(block)
        if failure is not None:
            failures.setdefault(failure.address.casefold(), failure)

    temporary, permanent = all_failures(message)
    text = _body_text(message)
    for raw, is_permanent in [(a, False) for a in temporary] + [(a, True) for a in permanent]:
        address = raw.decode("ascii", "replace")
        if "@" not in address or address.casefold() in failures:
            continue  # the delivery-status fields, with their code, already said more
        status, diagnostic = _diagnostic_in_text(text, address)
        failures[address.casefold()] = Failure(address, is_permanent, status, diagnostic)

    if not is_dsn and not failures:
        return None
    return DeliveryReport(
        failures=tuple(failures.values()),
        original_message_id=_original_message_id(message),
        report_message_id=_clean_id(message.get("Message-ID")),
    )


def _is_dsn(message: Message) -> bool:
    return (
        message.get_content_type() == "multipart/report"
        and str(message.get_param("report-type", "", header="content-type")).lower()
        == "delivery-status"
    )


def _recipient_blocks(message: Message) -> list[Message]:
    """The per-recipient field groups of every message/delivery-status part."""
    blocks: list[Message] = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        if isinstance(payload, list) and encoding != "base64":
            groups = [g for g in payload if isinstance(g, Message)]
        else:
            # Some MTAs base64-encode the part; the parser then reads the encoded text as one
            # headerless group, so decode it and split the field groups here.
            if isinstance(payload, list):
                encoded = "".join(str(g.get_payload()) for g in payload if isinstance(g, Message))
            else:
                encoded = str(payload)
            body = _decode_base64(encoded) if encoding == "base64" else encoded
            chunks = re.split(r"\r?\n[ \t]*\r?\n", body.strip())
            groups = [HeaderParser().parsestr(chunk.strip() + "\n") for chunk in chunks]
        # The first group is about the whole message (Reporting-MTA, Arrival-Date).
        blocks.extend(g for g in groups if g.get("Final-Recipient") or g.get("Original-Recipient"))
    return blocks


def _decode_base64(encoded: str) -> str:
    try:
        return base64.b64decode("".join(encoded.split())).decode("utf-8", "replace")
    except binascii.Error:
        return ""


def _failure_from_block(block: Message) -> Failure | None:
    address = _recipient(block)
    if not address:
        return None
    action = str(block.get("Action", "")).strip().lower()
    match = _STATUS.search(str(block.get("Status", "")))
    status = ".".join(match.groups()) if match else None
    diagnostic = _clean_diagnostic(block.get("Diagnostic-Code"))
    if match:
        klass = match.group(1)
        if klass == "2":
            return None  # delivered, relayed or expanded: a success notice
        # The code decides, not the Action: "failed" with 4.4.7 means the sender gave up
        # retrying an unreachable server, which says nothing against the mailbox itself.
        permanent = klass == "5"
    elif action.startswith(("failed", "error")):
        permanent = True
    elif action.startswith("delayed"):
        permanent = False
    else:
        return None
    return Failure(address, permanent, status, diagnostic)


def _recipient(block: Message) -> str | None:
    # Original-Recipient is the address we gave (ORCPT); Final-Recipient may be after aliasing.
    for field in ("Original-Recipient", "Final-Recipient"):
        value = block.get(field)
        if not value:
            continue
        text = " ".join(str(value).split())
        kind, _, address = text.partition(";")
        if not address:
            address, kind = kind, "rfc822"
        if kind.strip().lower() not in ("rfc822", "utf-8", ""):
            continue
        address = parseaddr(address.strip())[1] or address.strip().strip("<>")
        if "@" in address:
            return address
    return None


def _clean_diagnostic(value: object) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    text = _ADDRESS_TYPE.sub("", text, count=1)  # "smtp; 550 …" → "550 …"
    return _shorten(text) or None


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= DIAGNOSTIC_LENGTH:
        return text
    return text[: DIAGNOSTIC_LENGTH - 1].rstrip() + "…"


def _body_text(message: Message) -> str:
    """The human-readable text of a report, for codes the heuristic detectors do not give."""
    texts: list[str] = []
    for part in message.walk():
        if part.get_content_type() != "text/plain":
            continue
        raw = part.get_payload(decode=True)
        if isinstance(raw, bytes):
            charset = part.get_content_charset() or "utf-8"
            try:
                texts.append(raw.decode(charset, "replace"))
            except LookupError:
                texts.append(raw.decode("utf-8", "replace"))
    return "\n".join(texts)


def _diagnostic_in_text(text: str, address: str) -> tuple[str | None, str | None]:
    """The first enhanced status code after `address` in a free-form report, and the words
    between the address's last mention and the code (the remote server's explanation)."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    needle = address.casefold()
    mentions = [i for i, line in enumerate(lines) if needle in line.casefold()] or [0]
    for index in range(mentions[0], min(len(lines), mentions[0] + 25)):
        match = _STATUS.search(lines[index])
        if match is None or match.group(1) == "2":
            continue
        start = max(i for i in mentions if i <= index)
        span = lines[start + 1 : index + 1] if start < index else [lines[index]]
        return ".".join(match.groups()), _shorten(" ".join(line for line in span if line))
    return None, None


def _original_message_id(message: Message) -> str | None:
    """The Message-ID of the bounced message, from the copy or the headers the report returns."""
    for part in message.walk():
        content_type = part.get_content_type()
        headers: Message | None = None
        if content_type in ("message/rfc822", "message/rfc822-headers"):
            # The parser reads any message/* part (but delivery-status) as one enclosed message.
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                headers = payload[0]
        elif content_type == "text/rfc822-headers":
            raw = part.get_payload(decode=True)
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
            headers = HeaderParser().parsestr(text, headersonly=True)
        if headers is not None and headers.get("Message-ID"):
            return _clean_id(headers.get("Message-ID"))
    return None


def _clean_id(value: object) -> str | None:
    if value is None:
        return None
    text = "".join(str(value).split())
    return text or None
