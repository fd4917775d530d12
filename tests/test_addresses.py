from __future__ import annotations

import pytest

from domain.addresses import InvalidAddress, normalize, parse


def test_normalizes_case_and_whitespace() -> None:
    address = parse("  Taro.Yamada@Example.CO.JP ")
    assert address.normalized == "taro.yamada@example.co.jp"
    assert address.display == "Taro.Yamada@Example.CO.JP"
    assert address.domain == "example.co.jp"
    assert normalize("TARO.YAMADA@example.co.jp") == address.normalized


def test_internationalized_domain_is_stored_in_unicode() -> None:
    assert parse("info@xn--r8jz45g.jp").domain == "例え.jp"
    assert parse("info@例え.JP").normalized == "info@例え.jp"


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "taro", "taro@", "@example.com", "taro@@example.com", "a@b", "x@example..com"],
)
def test_invalid_addresses_are_refused_with_a_reason(raw: str) -> None:
    with pytest.raises(InvalidAddress) as raised:
        parse(raw)
    assert str(raised.value)


@pytest.mark.parametrize(
    "raw", ["a@example.com, b@example.com", "Taro <t@example.com>", "t@example.com\r\nBcc: x@y.z"]
)
def test_exactly_one_bare_address(raw: str) -> None:
    with pytest.raises(InvalidAddress, match="one email address"):
        parse(raw)


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("taro@gmial.com", "taro@gmail.com"),
        ("taro@yaho.co.jp", "taro@yahoo.co.jp"),
        ("taro@hotmial.com", "taro@hotmail.com"),
        ("taro@oulook.com", "taro@outlook.com"),
    ],
)
def test_did_you_mean_for_common_typos(typed: str, suggested: str) -> None:
    address = parse(typed)
    assert address.suggestion == suggested
    assert f"Did you mean {suggested}?" in address.warnings


def test_typo_of_the_organizations_own_domain() -> None:
    address = parse("k.sato@nipponkisen.co.jp", known_domains=["nippon-kisen.co.jp"])
    assert address.suggestion == "k.sato@nippon-kisen.co.jp"


@pytest.mark.parametrize("good", ["a@nyk.com", "a@mol.co.jp", "a@dnv.com", "a@example.co.jp"])
def test_no_false_suggestions_for_ordinary_company_domains(good: str) -> None:
    assert parse(good).suggestion is None


def test_free_mail_and_unknown_domains_warn_but_pass() -> None:
    free = parse("captain@gmail.com", known_domains=["owner.co.jp"])
    assert free.is_free_mail
    assert any("free-mail" in w for w in free.warnings)
    outside = parse("a@partner.example", known_domains=["owner.co.jp"])
    assert any("not one of your organization's known domains" in w for w in outside.warnings)
    inside = parse("a@tokyo.owner.co.jp", known_domains=["owner.co.jp"])
    assert inside.warnings == ()
