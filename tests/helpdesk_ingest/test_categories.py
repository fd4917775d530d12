"""Categories from the words of a request, in English and in Japanese."""

from __future__ import annotations

import pytest

from db.enums import HelpdeskCategory as C
from domain.helpdesk_ingest.categories import categorize


@pytest.mark.parametrize(
    ("subject", "text", "expected"),
    [
        ("Cannot log in", "Since this morning we are unable to login.", C.CANNOT_LOG_IN),
        (None, "I forgot my password for the portal.", C.CANNOT_LOG_IN),
        ("ＬＯＧＩＮ　ＥＲＲＯＲ", "Log-in failed with an error", C.CANNOT_LOG_IN),
        ("ログインできません", "昨日からログインできません。", C.CANNOT_LOG_IN),
        (None, "パスワードを忘れてしまいました", C.CANNOT_LOG_IN),
        ("No email", "We have not received the verification email yet.", C.EMAIL_NOT_RECEIVED),
        (None, "I checked the spam folder but nothing arrived.", C.EMAIL_NOT_RECEIVED),
        ("確認メールが届かない", "登録したのにメールが届きません。", C.EMAIL_NOT_RECEIVED),
        ("Link expired", "The link has expired before I could click it.", C.LINK_EXPIRED),
        ("リンクの有効期限", "リンクが無効になっていました", C.LINK_EXPIRED),
        (None, "We were registered under the wrong company.", C.WRONG_ORGANIZATION),
        ("所属組織が違います", "別の会社として登録されています", C.WRONG_ORGANIZATION),
        ("Add a user", "Please add another user for our Tokyo office.", C.ADD_OR_REMOVE_USER),
        (None, "Mr. Sato has left the company, please remove the user.", C.ADD_OR_REMOVE_USER),
        ("ユーザー追加のお願い", "担当者変更のため追加登録をお願いします", C.ADD_OR_REMOVE_USER),
        ("Invoice", "Please send the invoice for June.", C.OTHER),
        ("請求書", "6月分の請求書をお送りください。", C.OTHER),
        (None, None, C.OTHER),
    ],
)
def test_rules_in_both_languages(subject: str | None, text: str | None, expected: C) -> None:
    assert categorize(subject, text).category is expected


def test_the_more_specific_problem_wins_a_tie() -> None:
    result = categorize(None, "The link expired, so I cannot log in.")
    assert result.category is C.LINK_EXPIRED
    assert result.rule is not None


def test_the_subject_counts_double() -> None:
    text = "I cannot log in. Also, I did not receive the email twice? I cannot log in."
    assert categorize(None, text).category is C.CANNOT_LOG_IN
    assert categorize("Email not received", text).category is C.EMAIL_NOT_RECEIVED


def test_no_rule_means_other_without_a_rule() -> None:
    result = categorize("Hello", "Just saying thanks.")
    assert (result.category, result.rule, result.guessed) == (C.OTHER, None, False)


def test_katakana_block_is_not_an_account_lock() -> None:
    assert categorize(None, "ブロック図を送ります").category is C.OTHER
