"""Email addresses as people type them: validate, normalize, and warn about likely mistakes.

The normalized form is what the rules compare (one person per normalized address): the whole
address lower-cased and the domain in Unicode (IDNA decoded), so ``Taro@Example.CO.JP`` and
``taro@example.co.jp`` are one person. Mail servers may treat local parts case-sensitively, but no
real corporate mailbox does, and two accounts for one human would be worse.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email

FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.jp",
        "ymail.com",
        "outlook.com",
        "outlook.jp",
        "hotmail.com",
        "hotmail.co.jp",
        "live.com",
        "live.jp",
        "msn.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.ru",
        "yandex.ru",
        "qq.com",
        "163.com",
        "126.com",
        "naver.com",
        "daum.net",
        "hanmail.net",
        "protonmail.com",
        "proton.me",
        "docomo.ne.jp",
        "ezweb.ne.jp",
        "softbank.ne.jp",
        "i.softbank.jp",
        "nifty.com",
        "biglobe.ne.jp",
        "ocn.ne.jp",
    }
)


class InvalidAddress(ValueError):
    """The address cannot receive mail as written; the message says why, for the form."""


@dataclass(frozen=True)
class Address:
    normalized: str  # what rules compare and what is stored in `email`
    display: str  # as typed, trimmed (stored in `email_display`)
    domain: str
    warnings: tuple[str, ...] = field(default=())
    suggestion: str | None = None  # "did you mean …?"

    @property
    def is_free_mail(self) -> bool:
        return self.domain in FREE_MAIL_DOMAINS


def normalize(raw: str) -> str:
    """The normalized form of an address already known to be valid (e.g. from a mailbox)."""
    return parse(raw).normalized


def parse(raw: str, *, known_domains: Iterable[str] = ()) -> Address:
    """Validate one address; `InvalidAddress` with a readable reason if it cannot be used."""
    typed = (raw or "").strip()
    if not typed:
        raise InvalidAddress("Enter an email address.")
    if any(c in typed for c in "\r\n\t,; <>"):
        raise InvalidAddress("Enter one email address, without spaces, names or separators.")
    try:
        # Deliverability (DNS) is checked separately by the dispatch flow, with a cache and a
        # timeout; a web form must not hang on a slow resolver.
        result = validate_email(typed, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from None
    domain = result.domain.lower()
    normalized = f"{result.local_part.lower()}@{domain}"
    known = {d.lower() for d in known_domains}
    suggestion = _suggest(result.local_part, domain, known)
    warnings = []
    if suggestion:
        warnings.append(f"Did you mean {suggestion}?")
    if domain in FREE_MAIL_DOMAINS:
        warnings.append(
            "This is a free-mail address; a company address is better for a work account."
        )
    elif known and domain not in known and not any(domain.endswith("." + d) for d in known):
        listed = ", ".join(sorted(known))
        warnings.append(f"{domain} is not one of your organization's known domains ({listed}).")
    return Address(
        normalized=normalized,
        display=typed,
        domain=domain,
        warnings=tuple(warnings),
        suggestion=suggestion,
    )


# Misspellings of the big providers are the most common reason a verification mail never arrives.
_COMMON_DOMAINS = sorted(FREE_MAIL_DOMAINS)


def _suggest(local_part: str, domain: str, known: set[str]) -> str | None:
    if domain in known or domain in FREE_MAIL_DOMAINS:
        return None
    candidates = sorted(known) + _COMMON_DOMAINS
    match = difflib.get_close_matches(domain, candidates, n=1, cutoff=0.84)
    if not match:
        return None
    return f"{local_part}@{match[0]}"
