"""Can a domain receive email at all? An MX lookup before a verification link is sent.

Off by default (``SWITCHOVER_MX_CHECK``): it needs DNS from the machine that runs the flows. When
on, a registration whose domain does not exist, or has neither an MX nor an address record
(RFC 5321 §5.1), or publishes a "null MX" (RFC 7505: it accepts no mail), is marked
undeliverable and gets no link; the organization sees why in the portal. Anything else —
a timeout, a broken name server — counts as "don't know" and the link is sent: a DNS hiccup
must never hold back someone's registration.

Answers are cached per domain for the life of the checker (one flow run): a campaign-sized
batch of registrations usually shares a few hundred domains.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import dns.exception
import dns.resolver

log = logging.getLogger(__name__)


class NoSuchDomain(Exception):
    """The domain does not exist (NXDOMAIN)."""


class NoRecords(Exception):
    """The domain exists but has no record of the type asked for."""


# (domain, record type) -> the records' text, e.g. ["10 mx1.example.com."]; raises NoSuchDomain,
# NoRecords, or anything else for "could not find out".
Lookup = Callable[[str, str], list[str]]


@dataclass(frozen=True)
class Verdict:
    deliverable: bool | None  # None: could not find out (the link is sent)
    reason: str | None = None  # why not, for the registration's undeliverable_reason

    @property
    def undeliverable(self) -> bool:
        return self.deliverable is False


def dns_lookup(timeout_seconds: float) -> Lookup:
    """A lookup through the system's resolver (dnspython), giving up after `timeout_seconds`."""
    resolver = dns.resolver.Resolver(configure=True)

    def lookup(domain: str, rdtype: str) -> list[str]:
        try:
            answer = resolver.resolve(domain, rdtype, lifetime=timeout_seconds, search=False)
        except dns.resolver.NXDOMAIN:
            raise NoSuchDomain(domain) from None
        except dns.resolver.NoAnswer:
            raise NoRecords(domain) from None
        return [record.to_text() for record in answer]

    return lookup


class MxChecker:
    def __init__(self, lookup: Lookup) -> None:
        self._lookup = lookup
        self._verdicts: dict[str, Verdict] = {}
        self.lookups = 0

    def check_address(self, address: str) -> Verdict:
        return self.check_domain(address.rpartition("@")[2])

    def check_domain(self, domain: str) -> Verdict:
        domain = domain.strip().rstrip(".").lower()
        cached = self._verdicts.get(domain)
        if cached is None:
            cached = self._verdicts[domain] = self._decide(domain)
        return cached

    def _decide(self, domain: str) -> Verdict:
        if not domain:
            return Verdict(False, "the address has no domain")
        try:
            self.lookups += 1
            records = self._lookup(domain, "MX")
        except NoSuchDomain:
            return Verdict(False, f"the domain {domain} does not exist")
        except NoRecords:
            return self._address_records(domain)
        except Exception as exc:  # DNS trouble: do not hold anyone back for it
            log.info("MX lookup for %s failed (%s); sending anyway", domain, _brief(exc))
            return Verdict(None)
        exchanges = [record.split()[-1] for record in records if record.split()]
        if exchanges and all(exchange in (".", "") for exchange in exchanges):
            return Verdict(False, f"the domain {domain} accepts no email (null MX)")
        return Verdict(True)

    def _address_records(self, domain: str) -> Verdict:
        # No MX: mail goes to the domain's own address, if it has one (RFC 5321 "implicit MX").
        for rdtype in ("A", "AAAA"):
            try:
                self.lookups += 1
                if self._lookup(domain, rdtype):
                    return Verdict(True)
            except (NoSuchDomain, NoRecords):
                continue
            except Exception as exc:
                log.info(
                    "%s lookup for %s failed (%s); sending anyway", rdtype, domain, _brief(exc)
                )
                return Verdict(None)
        return Verdict(False, f"the domain {domain} has no mail server (no MX or address record)")


def _brief(exc: Exception) -> str:
    if isinstance(exc, dns.exception.Timeout):
        return "timeout"
    return f"{type(exc).__name__}: {exc}"[:200]


def checker_from_settings(enabled: bool, timeout_seconds: float) -> MxChecker | None:
    """The checker the flows use, or None when the check is off or DNS is not configured."""
    if not enabled:
        return None
    try:
        return MxChecker(dns_lookup(timeout_seconds))
    except dns.resolver.NoResolverConfiguration:
        log.warning("SWITCHOVER_MX_CHECK is on but this machine has no DNS resolver configured")
        return None


__all__ = [
    "Lookup",
    "MxChecker",
    "NoRecords",
    "NoSuchDomain",
    "Verdict",
    "checker_from_settings",
    "dns_lookup",
]
