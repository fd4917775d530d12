"""Sample contexts for previews and tests: one plausible recipient per template and locale.

Japanese samples use Japanese names, as a Japanese organization's email would; the links point
at the configured portal so a preview can be clicked through on a local stack. The people and
companies are invented.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from db.enums import HelpdeskCategory, Locale, Role
from domain.settings import Settings

_TOKYO = ZoneInfo("Asia/Tokyo")

_ORGANIZATIONS = {
    Locale.EN: ("Nordic Bulk Carriers AS", "NBC-20417"),
    Locale.JA: ("青潮海運株式会社", "AOS-10385"),
}
_CONTACTS = {Locale.EN: "Ingrid Larsen", Locale.JA: "佐藤 花子"}
_PEOPLE = {
    Locale.EN: ("Daniel Okafor", "daniel.okafor@nordicbulk.example"),
    Locale.JA: ("山田 太郎", "t.yamada@aoshio-kaiun.example.jp"),
}


def _at(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    """An instant given in Tokyo time, stored as UTC like every datetime the code passes."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=_TOKYO).astimezone(dt.UTC)


def _organization(locale: Locale) -> dict[str, Any]:
    name, login_id = _ORGANIZATIONS[locale]
    return {"organization_name": name, "login_id": login_id, "contact_name": _CONTACTS[locale]}


def _person(locale: Locale) -> dict[str, Any]:
    name, email = _PEOPLE[locale]
    return {
        "person_name": name,
        "email": email,
        "organization_name": _ORGANIZATIONS[locale][0],
        "role": Role.ADMINISTRATOR,
    }


def announcement(locale: Locale, settings: Settings) -> dict[str, Any]:
    return _organization(locale) | {
        "instructions_url": settings.public_url(f"help/pre-registration?lang={locale.value}"),
    }


def reminder(locale: Locale, settings: Settings) -> dict[str, Any]:
    return _organization(locale) | {"segment": "nothing_verified", "days_left": 7}


def verification(locale: Locale, settings: Settings) -> dict[str, Any]:
    return _person(locale) | {
        "verify_url": settings.public_url("verify/sample-Zq8vR2kLw5TnY0aBc3dEf6"),
        "expires_at": _at(2025, 7, 15, 9, 0),
    }


def verification_nudge(locale: Locale, settings: Settings) -> dict[str, Any]:
    return _person(locale) | {
        "verify_url": settings.public_url("verify/sample-Hx4mP9sQa1VbN7cWd2eRt5"),
        "expires_at": _at(2025, 7, 20, 9, 0),
        "days_waiting": 5,
    }


def registration_confirmed(locale: Locale, settings: Settings) -> dict[str, Any]:
    return _person(locale)


def followup(locale: Locale, settings: Settings) -> dict[str, Any]:
    return _organization(locale) | {"step": "close_plus_1"}


def migration_activation(locale: Locale, settings: Settings) -> dict[str, Any]:
    name, email = _PEOPLE[locale]
    second = {Locale.EN: "Baltic Ship Management Oy", Locale.JA: "青潮シップマネジメント株式会社"}
    return {
        "person_name": name,
        "email": email,
        "activation_url": settings.public_url("activate/sample-Lk2wQ8zXc4RvB6nMp0sTy3"),
        "expires_at": _at(2025, 10, 5, 0, 0),
        "memberships": [
            {"organization_name": _ORGANIZATIONS[locale][0], "role": Role.ADMINISTRATOR},
            {"organization_name": second[locale], "role": Role.VISITOR},
        ],
    }


def activation_resent(locale: Locale, settings: Settings) -> dict[str, Any]:
    return migration_activation(locale, settings) | {
        "activation_url": settings.public_url("activate/sample-Pn5rT2wYe8UiO4aSd6fGh1"),
        "expires_at": _at(2025, 10, 9, 14, 30),
        "memberships": migration_activation(locale, settings)["memberships"][:1],
    }


def password_reset(locale: Locale, settings: Settings) -> dict[str, Any]:
    name, email = _PEOPLE[locale]
    return {
        "person_name": name,
        "email": email,
        "reset_url": settings.public_url("reset-password/sample-Vb3nM7qWe1RtY5uIo9pAs2"),
        "expires_at": _at(2025, 10, 9, 16, 30),
    }


_HELPDESK_MESSAGES = {
    Locale.EN: (
        "Verification link has expired",
        "Hello,\nI registered on 1 July but only opened the email today, and the link says it "
        "has expired.\nCould you send me a new one?\n\nBest regards,\nDaniel",
    ),
    Locale.JA: (
        "確認用リンクの有効期限について",
        "お世話になっております。\n7月1日に登録しましたが、確認メールのリンクの有効期限が"
        "切れておりました。\n再送をお願いできますでしょうか。\n\n青潮海運　山田",
    ),
}


def helpdesk_acknowledgement(locale: Locale, settings: Settings) -> dict[str, Any]:
    subject, message = _HELPDESK_MESSAGES[locale]
    return {
        "person_name": _PEOPLE[locale][0],
        "reference": "HD-2025-004127",
        "category": HelpdeskCategory.LINK_EXPIRED,
        "message": message,
        "message_subject": subject,
        "received_at": _at(2025, 7, 18, 10, 42),
        "response_business_days": 2,
    }


def invitation(locale: Locale, settings: Settings) -> dict[str, Any]:
    inviter = {Locale.EN: "Ingrid Larsen", Locale.JA: "佐藤 花子"}
    invitee = {
        Locale.EN: ("Mei Tanaka", "mei.tanaka@nordicbulk.example"),
        Locale.JA: ("鈴木 一郎", "i.suzuki@aoshio-kaiun.example.jp"),
    }
    name, email = invitee[locale]
    return {
        "person_name": name,
        "email": email,
        "organization_name": _ORGANIZATIONS[locale][0],
        "role": Role.NORMAL,
        "inviter_name": inviter[locale],
        "invitation_url": settings.public_url("invitations/sample-Rt7yU1iOp3AsD5fGh9jKl2"),
        "expires_at": _at(2025, 10, 20, 18, 0),
    }
