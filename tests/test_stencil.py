"""A stencil gives exactly what render_email gives, or turns itself off and renders in full."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from db.enums import Locale
from domain.emails.render import render_email
from domain.settings import Settings
from domain.stencil import Stencil

ORG_VARIABLES = ("organization_name", "login_id", "contact_name")

NAMES = [
    "Nordic Bulk Carriers AS",
    "Ocean & Sons <Shipping> \"Kaiun\" K.K. 'Tokyo'",
    "青潮海運株式会社",
    "Very Long Organization Name Shipping Company Limited Partnership International Holdings",
    "A" * 90,
    "Short",
    "Müller-Lüdenscheidt Reederei GmbH & Co. KG",
    "=cmd|' /C calc'!A0",
    "東京 マリン サービス 株式会社 大阪支店 営業部 第二課",
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen",
]

CASES: list[tuple[str, dict[str, Any]]] = [
    ("reminder", {"segment": "never_registered", "days_left": 60}),
    ("reminder", {"segment": "nothing_verified", "days_left": 7}),
    ("reminder", {"segment": "no_verified_admin", "days_left": 1}),
    ("reminder", {"segment": "never_registered", "days_left": 0}),
    ("announcement", {}),
    ("followup", {"step": "close_plus_1"}),
    ("followup", {"step": "close_plus_7"}),
    ("followup", {"step": "after_switch"}),
]


@pytest.fixture(scope="module")
def plain_settings() -> Settings:
    return Settings(_env_file=None)


@pytest.mark.parametrize("locale", list(Locale))
@pytest.mark.parametrize(("template", "fixed"), CASES)
def test_filled_in_emails_are_the_bytes_render_email_gives(
    plain_settings: Settings, template: str, fixed: dict[str, Any], locale: Locale
) -> None:
    rng = random.Random(f"{template}{fixed}{locale}")
    with_contact = Stencil(template, locale, fixed, ORG_VARIABLES, plain_settings)
    without_contact = Stencil(template, locale, fixed, ORG_VARIABLES[:2], plain_settings)
    assert with_contact.enabled and without_contact.enabled
    for _ in range(25):
        values = {
            "organization_name": rng.choice(NAMES),
            "login_id": f"NK{rng.randrange(10**6):06d}",
            "contact_name": rng.choice(NAMES),
        }
        assert with_contact.render(values) == render_email(
            template, locale, fixed | values, plain_settings
        )
        two = {k: values[k] for k in ORG_VARIABLES[:2]}
        assert without_contact.render(two) == render_email(
            template, locale, fixed | two, plain_settings
        )
    assert with_contact.verified
    # Only values whose subject would be cut (the longest names) are rendered in full.
    assert with_contact.fast_renders + with_contact.slow_renders == 25
    assert with_contact.fast_renders >= 10


@pytest.mark.parametrize(
    "awkward",
    [
        "Two  spaces",
        " leading space",
        "line\nbreak",
        "tab\there",
        "",
        "private\ue0f0use",
    ],
)
def test_values_that_could_change_the_layout_are_rendered_in_full(
    plain_settings: Settings, awkward: str
) -> None:
    fixed = {"segment": "nothing_verified", "days_left": 7}
    stencil = Stencil("reminder", Locale.EN, fixed, ORG_VARIABLES, plain_settings)
    values = {"organization_name": awkward or " ", "login_id": "NK1", "contact_name": "Ann Lee"}
    assert stencil.render(values) == render_email(
        "reminder", Locale.EN, fixed | values, plain_settings
    )
    assert stencil.slow_renders == 1
    assert stencil.fast_renders == 0


def test_a_subject_cut_for_length_is_rendered_in_full(plain_settings: Settings) -> None:
    stencil = Stencil(
        "followup", Locale.EN, {"step": "after_switch"}, ORG_VARIABLES, plain_settings
    )
    values = {"organization_name": "Long " * 45 + "Ltd", "login_id": "NK1", "contact_name": "Al"}
    email = stencil.render(values)
    assert email.subject.endswith("…")
    assert email == render_email(
        "followup", Locale.EN, {"step": "after_switch"} | values, plain_settings
    )
    assert stencil.slow_renders == 1


def test_a_value_the_template_transforms_turns_the_stencil_off(plain_settings: Settings) -> None:
    # `role` goes through the role_label filter: a placeholder cannot survive it, so the
    # stencil's self-check fails at build time and every email is rendered in full.
    fixed = {
        "person_name": "Hanako Sato",
        "organization_name": "Kaiun",
        "verify_url": "https://portal.example/verify/abc",
        "expires_at": dt.datetime(2025, 7, 1, tzinfo=dt.UTC),
    }
    stencil = Stencil("verification", Locale.EN, fixed, ("role",), plain_settings)
    assert not stencil.enabled
    email = stencil.render({"role": "administrator"})
    assert email == render_email(
        "verification", Locale.EN, fixed | {"role": "administrator"}, plain_settings
    )
    assert stencil.slow_renders == 1


def test_a_key_cannot_be_fixed_and_variable(plain_settings: Settings) -> None:
    with pytest.raises(ValueError, match="login_id"):
        Stencil("announcement", Locale.EN, {"login_id": "x"}, ORG_VARIABLES, plain_settings)
