from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domain.clock import Calendar, FixedClock, OffsetClock, as_utc, clock_from_settings
from domain.settings import Settings, SettingsError, load_settings

TOKYO = ZoneInfo("Asia/Tokyo")
ROOT = Path(__file__).resolve().parents[1]


def test_fixed_clock_is_utc_and_moves_only_forward() -> None:
    clock = FixedClock(dt.datetime(2025, 6, 15, 9, 0, tzinfo=TOKYO))
    assert clock.now() == dt.datetime(2025, 6, 15, 0, 0, tzinfo=dt.UTC)
    assert clock.now().utcoffset() == dt.timedelta(0)
    clock.advance(days=1, hours=2)
    assert clock.now() == dt.datetime(2025, 6, 16, 2, 0, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(dt.timedelta(seconds=-1))


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        FixedClock(dt.datetime(2025, 6, 15))
    with pytest.raises(ValueError, match="naive"):
        as_utc(dt.datetime(2025, 6, 15))


def test_calendar_boundaries_are_tokyo_days() -> None:
    cal = Calendar.from_settings(Settings(_env_file=None))
    assert cal.opens_at == dt.datetime(2025, 6, 14, 15, 0, tzinfo=dt.UTC)
    # 14 Sep 23:59 in Tokyo is still open; midnight closes it.
    last_minute = dt.datetime(2025, 9, 14, 23, 59, 59, tzinfo=TOKYO)
    assert cal.phase(last_minute) == "open"
    assert cal.phase(last_minute + dt.timedelta(seconds=1)) == "closed"
    assert cal.phase(dt.datetime(2025, 6, 14, 23, 59, tzinfo=TOKYO)) == "before"
    assert cal.phase(dt.datetime(2025, 9, 28, 0, 0, tzinfo=TOKYO)) == "switched"
    assert cal.phase(dt.datetime(2025, 9, 27, 23, 59, tzinfo=TOKYO)) == "closed"
    # T-7 counted in Tokyo days, even when UTC is still on the previous date.
    assert cal.days_until_close(dt.datetime(2025, 9, 6, 16, 0, tzinfo=dt.UTC)) == 7
    assert cal.local(cal.switch_at).isoformat() == "2025-09-28T00:00:00+09:00"


def test_offset_clock_starts_at_the_setting_and_ticks() -> None:
    settings = Settings(_env_file=None, clock_at=dt.datetime(2025, 8, 1, 10, 0))
    clock = clock_from_settings(settings)
    assert isinstance(clock, OffsetClock)
    first = clock.now()
    assert (
        dt.timedelta(0)
        <= first - dt.datetime(2025, 8, 1, 1, 0, tzinfo=dt.UTC)
        < dt.timedelta(seconds=5)
    )
    assert clock.now() >= first


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHOVER_PREREGISTRATION_CLOSES", "2026-03-31")
    monkeypatch.setenv("SWITCHOVER_SWITCH_DATE", "2026-04-12")
    monkeypatch.setenv("SWITCHOVER_DATABASE_URL", "postgresql://app:s3cret@db.internal/switch")
    settings = load_settings(_env_file=None)
    assert settings.preregistration_closes == dt.date(2026, 3, 31)
    assert settings.database_url == "postgresql+psycopg://app:s3cret@db.internal/switch"
    assert not settings.is_sqlite


def test_settings_read_dot_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("SWITCHOVER_HELPDESK_EMAIL=help@operator.example\n")
    monkeypatch.chdir(tmp_path)
    assert str(load_settings().helpdesk_email) == "help@operator.example"


def test_defaults_follow_the_announcement() -> None:
    settings = Settings(_env_file=None)
    assert settings.preregistration_opens == dt.date(2025, 6, 15)
    assert settings.preregistration_closes == dt.date(2025, 9, 14)
    assert settings.switch_date == dt.date(2025, 9, 28)
    assert settings.timezone == "Asia/Tokyo"
    assert settings.helpdesk_email == "cch-portal@classnk.or.jp"
    assert str(settings.helpdesk_form_url) == "https://forms.office.com/r/1cPRhM26MH"
    assert settings.database_url.startswith("sqlite:///var/")


@pytest.mark.parametrize(
    ("env", "value", "needle"),
    [
        ("SWITCHOVER_DATABASE_URL", "not a url", "SWITCHOVER_DATABASE_URL"),
        ("SWITCHOVER_DATABASE_URL", "mysql://root@localhost/db", "unsupported database"),
        ("SWITCHOVER_DATABASE_URL", "sqlite://", "in-memory"),
        ("SWITCHOVER_TIMEZONE", "Mars/Olympus", "unknown time zone"),
        ("SWITCHOVER_SWITCH_DATE", "2025-09-01", "preregistration_closes < switch_date"),
        (
            "SWITCHOVER_VERIFICATION_TOKEN_TTL_HOURS",
            "-3",
            "SWITCHOVER_VERIFICATION_TOKEN_TTL_HOURS",
        ),
        ("SWITCHOVER_SMTP_SECURITY", "tls13", "SWITCHOVER_SMTP_SECURITY"),
    ],
)
def test_bad_settings_give_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, needle: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError) as raised:
        load_settings(_env_file=None)
    message = str(raised.value)
    assert needle in message
    assert "\n" not in message


def test_business_code_never_reads_the_wall_clock() -> None:
    offenders = []
    pattern = re.compile(r"datetime\.(now|utcnow|today)\(|date\.today\(|time\.time\(")
    for package in ("domain", "db", "tasks", "flows", "portal"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "clock.py":
                continue  # the one place that may
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if pattern.search(line) and "# wall-clock ok" not in line:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "use the injected clock:\n" + "\n".join(offenders)
