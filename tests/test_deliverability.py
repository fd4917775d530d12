"""The MX check: which answers mean "cannot receive mail", which mean "don't know"."""

from __future__ import annotations

import dns.exception
import pytest

from domain.deliverability import MxChecker, NoRecords, NoSuchDomain, checker_from_settings

Answer = list[str] | type[Exception] | Exception


def checker(answers: dict[tuple[str, str], Answer]) -> tuple[MxChecker, list[tuple[str, str]]]:
    asked: list[tuple[str, str]] = []

    def lookup(domain: str, rdtype: str) -> list[str]:
        asked.append((domain, rdtype))
        found = answers.get((domain, rdtype), NoRecords)
        if isinstance(found, Exception):
            raise found
        if isinstance(found, type):
            raise found(domain)
        return found

    return MxChecker(lookup), asked


@pytest.mark.parametrize(
    ("answers", "deliverable", "reason"),
    [
        ({("x.example", "MX"): ["10 mx1.x.example.", "20 mx2.x.example."]}, True, None),
        ({("x.example", "MX"): NoSuchDomain}, False, "the domain x.example does not exist"),
        ({("x.example", "MX"): ["0 ."]}, False, "the domain x.example accepts no email (null MX)"),
        ({("x.example", "A"): ["192.0.2.1"]}, True, None),  # no MX: the implicit MX
        ({("x.example", "AAAA"): ["2001:db8::1"]}, True, None),
        (
            {},
            False,
            "the domain x.example has no mail server (no MX or address record)",
        ),
        ({("x.example", "MX"): dns.exception.Timeout}, None, None),
        ({("x.example", "MX"): OSError("network unreachable")}, None, None),
        ({("x.example", "A"): dns.exception.Timeout}, None, None),
    ],
)
def test_verdicts(
    answers: dict[tuple[str, str], Answer], deliverable: bool | None, reason: str | None
) -> None:
    check, _ = checker(answers)
    verdict = check.check_address("someone@X.Example.")
    assert verdict.deliverable is deliverable
    assert verdict.reason == reason
    assert verdict.undeliverable is (deliverable is False)


def test_answers_are_cached_per_domain() -> None:
    check, asked = checker({("x.example", "MX"): ["10 mx.x.example."]})
    for local in ("a", "b", "c"):
        assert check.check_address(f"{local}@x.example").deliverable is True
    assert asked == [("x.example", "MX")]
    assert check.lookups == 1


def test_the_check_is_off_unless_asked_for() -> None:
    assert checker_from_settings(False, 1.0) is None
