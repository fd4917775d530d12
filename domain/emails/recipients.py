"""Recipient addresses as the outbox accepts them and as SMTP needs them.

The outbox takes exactly one bare address (``local@domain``), never a header value: a line break
or a second address in that field would let a typo, or an attacker, add recipients or headers.
Domains may be internationalized; they travel as A-labels (``xn--…``), so only a non-ASCII local
part needs a relay that speaks SMTPUTF8 (RFC 6531).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import idna

# RFC 5321: 64 octets of local part, 255 of domain; a path (with <>) fits in 256 octets.
MAX_LOCAL_OCTETS = 64
MAX_ADDRESS_OCTETS = 254
_ASCII_SPACE_OR_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_ASCII_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
# Unquoted local parts only (dot-atom): quoted strings and comments are legal but nobody registers
# them, and every relay in the path would have to agree on their parsing.
_ATEXT = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
# An ASCII address that the full check accepts for sure, as it is (nothing to strip): nearly
# every address, recognized for a fraction of the full check's cost (campaigns check hundreds of
# thousands). Anything else takes the full check, which says what is wrong.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN = re.compile(rf"(?={_ATOM}(?:\.{_ATOM})*@)[^@]{{1,64}}@(?:{_LABEL}\.)+{_LABEL}")


class RecipientError(ValueError):
    """The recipient is not one usable address; the message says what is wrong with it."""


@dataclass(frozen=True)
class SmtpAddress:
    """An address ready for the envelope and the To header."""

    address: str  # local part as given, domain as A-labels
    smtputf8: bool  # the local part is not ASCII


def check_recipient(address: str) -> str:
    """The address, stripped, if it is one deliverable ``local@domain``; else `RecipientError`."""
    if plainly_deliverable(address):
        return address
    smtp_address(address)
    return address.strip()


def plainly_deliverable(address: str) -> bool:
    """True only for addresses `smtp_address` accepts unchanged (a quick test, not the rule)."""
    return (
        isinstance(address, str)
        and len(address) <= MAX_ADDRESS_OCTETS
        and _PLAIN.fullmatch(address) is not None
    )


def smtp_address(address: str) -> SmtpAddress:
    if not isinstance(address, str):
        raise RecipientError(f"recipient must be a string, not {type(address).__name__}")
    if "\r" in address or "\n" in address:
        raise RecipientError(f"recipient {address!r} contains a line break")
    candidate = address.strip()
    if not candidate:
        raise RecipientError("recipient address is empty")
    if any(ch in candidate for ch in ",;<>"):
        raise RecipientError(
            f"recipient {candidate!r} is not a single bare address; give exactly one address "
            "such as name@example.com, without a display name"
        )
    if _ASCII_SPACE_OR_CONTROL.search(candidate) or (
        not candidate.isascii() and any(_is_space_or_control(ch) for ch in candidate)
    ):
        raise RecipientError(
            f"recipient {candidate!r} contains a space or control character; give one bare "
            "address such as name@example.com"
        )
    local, at, domain = candidate.rpartition("@")
    if not at or not local or not domain:
        raise RecipientError(f"recipient {candidate!r} is not an address of the form local@domain")
    return SmtpAddress(
        address=f"{_check_local(local, candidate)}@{_ascii_domain(domain, candidate)}",
        smtputf8=not local.isascii(),
    )


def _is_space_or_control(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


def _check_local(local: str, whole: str) -> str:
    if "@" in local:
        raise RecipientError(f"recipient {whole!r} has more than one @")
    if len(local.encode("utf-8")) > MAX_LOCAL_OCTETS:
        raise RecipientError(
            f"recipient {whole!r}: the part before @ is longer than {MAX_LOCAL_OCTETS} octets"
        )
    # RFC 6531 lets any non-ASCII character stand where an ASCII atext character may.
    ascii_view = "".join(ch if ch.isascii() else "a" for ch in local)
    if not _ATEXT.match(ascii_view):
        raise RecipientError(
            f"recipient {whole!r}: the part before @ contains characters or dots that mail "
            "servers reject"
        )
    return local


def _ascii_domain(domain: str, whole: str) -> str:
    try:
        ascii_domain = _to_a_labels(domain)
    except RecipientError as exc:
        raise RecipientError(f"recipient {whole!r}: {exc}") from None
    if len(ascii_domain) > 253 or len(whole.encode("utf-8")) > MAX_ADDRESS_OCTETS:
        raise RecipientError(f"recipient {whole!r} is longer than mail servers accept")
    return ascii_domain


@lru_cache(maxsize=4096)
def _to_a_labels(domain: str) -> str:
    # Campaigns write to thousands of people at a few hundred domains; the cache keeps IDNA
    # processing out of the per-message cost.
    if domain.isascii():
        labels = domain.split(".")
        if not all(_ASCII_LABEL.match(label) for label in labels):
            raise RecipientError(f"{domain!r} is not a valid domain name")
        return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise RecipientError(
            f"{domain!r} is not a valid internationalized domain ({exc})"
        ) from None
