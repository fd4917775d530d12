"""The Japanese catalogue covers every message the portal shows; languages and dates."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from db.enums import Locale
from portal.i18n import Translator, catalog, negotiate, parse_locale
from tests.web.messages import all_messages

_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
_TAG = re.compile(r"</?[a-z]+[^>]*>")
SAME_IN_BOTH = {"FAQ"}


def test_every_message_has_a_japanese_translation() -> None:
    missing = {
        text: where for text, where in all_messages().items() if text not in catalog(Locale.JA)
    }
    assert not missing, "add to portal/locales/ja.toml:\n" + "\n".join(
        f"{where}: {text}" for text, where in missing.items()
    )


def test_the_catalogue_has_no_stale_entries() -> None:
    used = all_messages()
    stale = [text for text in catalog(Locale.JA) if text not in used]
    assert not stale, f"no longer used, remove from ja.toml: {stale}"


def test_translations_keep_placeholders_and_markup() -> None:
    for english, japanese in catalog(Locale.JA).items():
        assert sorted(_PLACEHOLDER.findall(english)) == sorted(_PLACEHOLDER.findall(japanese)), (
            english
        )
        assert sorted(_TAG.findall(english)) == sorted(_TAG.findall(japanese)), english
        assert japanese.strip(), english
        assert japanese != english or english in SAME_IN_BOTH, f"untranslated: {english}"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ja", Locale.JA),
        ("ja-JP,ja;q=0.9,en-US;q=0.8", Locale.JA),
        ("en-US,en;q=0.9,ja;q=0.8", Locale.EN),
        ("fr-FR,ja;q=0.5,en;q=0.4", Locale.JA),
        ("de,fr", None),
        ("ja;q=0, en", Locale.EN),
        ("", None),
        ("ja;q=abc", None),
    ],
)
def test_accept_language(header: str, expected: Locale | None) -> None:
    assert negotiate(header) is expected


def test_parse_locale() -> None:
    assert parse_locale("JA_jp") is Locale.JA
    assert parse_locale("en-GB") is Locale.EN
    assert parse_locale("") is None and parse_locale("es") is None


def test_dates_read_naturally_in_each_language() -> None:
    day = dt.date(2025, 9, 28)
    assert Translator(Locale.EN).date(day) == "28 September 2025"
    assert Translator(Locale.JA).date(day) == "2025年9月28日(日)"
    moment = dt.datetime(2025, 9, 14, 14, 59, tzinfo=dt.UTC)
    tokyo = ZoneInfo("Asia/Tokyo")
    assert Translator(Locale.EN).datetime(moment, tokyo) == "14 September 2025, 23:59 (JST)"
    assert Translator(Locale.JA).datetime(moment, tokyo) == "2025年9月14日(日) 23:59 (JST)"


def test_plural_forms() -> None:
    english = Translator(Locale.EN)
    assert english.ngettext("%(num)d day left.", "%(num)d days left.", 1) == "1 day left."
    assert english.ngettext("%(num)d day left.", "%(num)d days left.", 3) == "3 days left."
    japanese = Translator(Locale.JA)
    assert japanese.ngettext("%(num)d day left.", "%(num)d days left.", 1) == "残り1日です。"
