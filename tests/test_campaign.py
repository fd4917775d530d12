"""The campaign file: loading, validation with clear errors, and which step is due when."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domain.campaign import (
    SHIPPED_FILE,
    CampaignError,
    load_campaign,
    parse_day,
    reminder_mailing,
)
from domain.clock import Calendar
from domain.segments import Recipients, Segment
from domain.settings import Settings

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def plain() -> Settings:
    return Settings(_env_file=None)


def write(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "campaign.toml"
    path.write_text(text, encoding="utf-8")
    return Settings(_env_file=None, campaign_file=path)


def test_the_shipped_campaign_matches_the_design_notes(plain: Settings) -> None:
    campaign = load_campaign(plain)
    assert campaign.source == SHIPPED_FILE
    assert [(s.name, s.date) for s in campaign.reminders] == [
        ("announcement", dt.date(2025, 6, 15)),
        ("T-60", dt.date(2025, 7, 16)),
        ("T-30", dt.date(2025, 8, 15)),
        ("T-14", dt.date(2025, 8, 31)),
        ("T-7", dt.date(2025, 9, 7)),
        ("T-3", dt.date(2025, 9, 11)),
        ("T-1", dt.date(2025, 9, 13)),
    ]
    assert [(s.name, s.date, s.action) for s in campaign.followups] == [
        ("close_plus_1", dt.date(2025, 9, 15), "email"),
        ("close_plus_7", dt.date(2025, 9, 21), "email"),
        ("call_list", dt.date(2025, 9, 22), "call_list"),
        ("after_switch", dt.date(2025, 9, 29), "email"),
    ]


def test_steps_follow_the_calendar_in_the_settings(tmp_path: Path) -> None:
    moved = Settings(
        _env_file=None,
        preregistration_opens=dt.date(2026, 1, 5),
        preregistration_closes=dt.date(2026, 3, 31),
        switch_date=dt.date(2026, 4, 13),
    )
    campaign = load_campaign(moved)
    assert campaign.step("announcement").date == dt.date(2026, 1, 5)
    assert campaign.step("T-7").date == dt.date(2026, 3, 24)
    assert campaign.step("after_switch").date == dt.date(2026, 4, 14)


@pytest.mark.parametrize(
    ("today", "reminder", "followups"),
    [
        (dt.date(2025, 6, 14), None, []),
        (dt.date(2025, 6, 15), "announcement", []),
        (dt.date(2025, 7, 15), "announcement", []),
        (dt.date(2025, 7, 16), "T-60", []),
        # A missed run sends the latest step due, late; never one a later step replaced.
        (dt.date(2025, 8, 20), "T-30", []),
        (dt.date(2025, 9, 13), "T-1", []),
        (dt.date(2025, 9, 14), "T-1", []),
        (dt.date(2025, 9, 15), None, ["close_plus_1"]),
        (dt.date(2025, 9, 21), None, ["close_plus_7"]),
        (dt.date(2025, 9, 22), None, ["close_plus_7", "call_list"]),
        (dt.date(2025, 9, 30), None, ["call_list", "after_switch"]),
    ],
)
def test_the_step_due_on_a_day(
    plain: Settings, today: dt.date, reminder: str | None, followups: list[str]
) -> None:
    campaign = load_campaign(plain)
    calendar = Calendar.from_settings(plain)
    due = campaign.reminder_due(today, calendar)
    assert (due.name if due else None) == reminder
    assert [s.name for s in campaign.followups_due(today)] == followups


def test_a_reminder_counts_the_days_from_the_day_it_is_sent(plain: Settings) -> None:
    campaign = load_campaign(plain)
    calendar = Calendar.from_settings(plain)
    late = dt.datetime(2025, 9, 8, 9, 0, tzinfo=TOKYO)  # T-7 sent a day late
    mailing = reminder_mailing(campaign.step("T-7"), calendar, late)
    assert mailing.fixed == {"days_left": 6}
    assert mailing.kind == "campaign"
    assert mailing.key(42, "Hanako@Example.JP") == "campaign:T-7:org:42:hanako@example.jp"
    assert mailing.key_prefix == "campaign:T-7:"
    assert mailing.segments == {
        Segment.NEVER_REGISTERED,
        Segment.NOTHING_VERIFIED,
        Segment.NO_VERIFIED_ADMIN,
    }
    assert mailing.recipients is Recipients.CONTACTS_AND_REGISTERED
    with pytest.raises(CampaignError, match="after the close"):
        reminder_mailing(campaign.step("T-1"), calendar, dt.datetime(2025, 9, 15, 9, tzinfo=TOKYO))


def test_a_very_long_address_gets_a_hashed_key(plain: Settings) -> None:
    campaign = load_campaign(plain)
    mailing = reminder_mailing(
        campaign.step("T-60"),
        Calendar.from_settings(plain),
        dt.datetime(2025, 7, 16, 9, tzinfo=TOKYO),
    )
    key = mailing.key(1, "a" * 64 + "@" + "b" * 150 + ".example")
    assert len(key) <= 200
    assert key.startswith("campaign:T-60:org:1:sha256:")
    assert key == mailing.key(1, "A" * 64 + "@" + "B" * 150 + ".example")


@pytest.mark.parametrize(
    ("value", "anchor", "offset"),
    [
        ("opening", "opening", 0),
        ("T-0", "close", 0),
        ("T-60", "close", -60),
        ("close+7", "close", 7),
        ("switch+0", "switch", 0),
    ],
)
def test_days(value: str, anchor: str, offset: int) -> None:
    day = parse_day(value)
    assert (day.anchor, day.offset) == (anchor, offset)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("this is not toml [", "not valid TOML"),
        (
            '[[reminder]]\nname = "x"\nday = "T-7"\ntemplate = "reminder"\nsegments = []\n',
            "reminder step 'x', segments",
        ),
        (
            '[[reminder]]\nname = "x"\nday = "tomorrow"\ntemplate = "reminder"\n'
            'segments = ["never_registered"]\n',
            "'tomorrow' is not a day",
        ),
        (
            '[[reminder]]\nname = "x"\nday = "close+1"\ntemplate = "reminder"\n'
            'segments = ["never_registered"]\n',
            "a reminder's day is 'opening' or 'T-<days>'",
        ),
        (
            '[[reminder]]\nname = "x"\nday = "T-7"\ntemplate = "invitation"\n'
            'segments = ["never_registered"]\n',
            "template",
        ),
        (
            '[[reminder]]\nname = "x"\nday = "T-7"\ntemplate = "reminder"\nsegments = ["ready"]\n',
            "'ready' organizations",
        ),
        (
            '[[reminder]]\nname = "x"\nday = "T-7"\ntemplate = "reminder"\n'
            'segments = ["never_registered"]\ncolour = "red"\n',
            "colour",
        ),
        (
            '[[reminder]]\nname = "x"\nday = "T-120"\ntemplate = "reminder"\n'
            'segments = ["never_registered"]\n',
            "outside pre-registration",
        ),
        ('[[followup]]\nname = "f"\nday = "close+1"\naction = "email"\n', "needs a wording"),
        ('[[followup]]\nname = "f"\nday = "close+0"\naction = "call_list"\n', "follow-up's day"),
        (
            '[[followup]]\nname = "f"\nday = "close+2"\naction = "call_list"\n'
            'wording = "close_plus_1"\n',
            "a call list has no wording",
        ),
        (
            '[[reminder]]\nname = "x"\nday = "T-7"\ntemplate = "reminder"\n'
            'segments = ["never_registered"]\n[[followup]]\nname = "x"\nday = "close+1"\n'
            'action = "call_list"\n',
            "step names must differ (x)",
        ),
        (
            '[[reminder]]\nname = "a"\nday = "T-7"\ntemplate = "reminder"\n'
            'segments = ["never_registered"]\n[[reminder]]\nname = "b"\nday = "T-7"\n'
            'template = "reminder"\nsegments = ["nothing_verified"]\n',
            "two reminder steps",
        ),
        (
            '[[reminder]]\nname = "bad name!"\nday = "T-7"\ntemplate = "reminder"\n'
            'segments = ["never_registered"]\n',
            "name",
        ),
    ],
)
def test_a_broken_file_is_refused_with_the_step_and_the_fix(
    tmp_path: Path, text: str, message: str
) -> None:
    settings = write(tmp_path, text)
    with pytest.raises(CampaignError) as error:
        load_campaign(settings)
    assert message in str(error.value)
    assert str(tmp_path / "campaign.toml") in str(error.value)


def test_a_missing_file_names_the_setting(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, campaign_file=tmp_path / "nowhere.toml")
    with pytest.raises(CampaignError, match="SWITCHOVER_CAMPAIGN_FILE"):
        load_campaign(settings)


def test_an_unknown_step_lists_the_known_ones(plain: Settings) -> None:
    with pytest.raises(CampaignError, match=r"T-45.*T-60"):
        load_campaign(plain).step("T-45")
