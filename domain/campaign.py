"""The campaign as data: reminder steps before the close, follow-up steps after it.

The steps live in a TOML file operators edit (`domain/campaign.toml`, or the file named by
``SWITCHOVER_CAMPAIGN_FILE``). Loading validates everything a run would trip over later — unknown
keys, days that do not parse or fall outside their period, templates, segments — and reports it
in one `CampaignError` naming the file, the step and the fix, before any email is planned.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from domain.clock import Calendar
from domain.emails.catalog import FOLLOWUP_STEPS
from domain.mailing import Mailing
from domain.segments import Recipients, Segment
from domain.settings import Settings

SHIPPED_FILE = Path(__file__).with_name("campaign.toml")
_DAY = re.compile(
    r"^(?:(?P<opening>opening)|T-(?P<before>\d{1,3})|(?P<anchor>close|switch)\+(?P<after>\d{1,3}))$"
)
StepName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9+_-]{0,39}$")]


class CampaignError(ValueError):
    """The campaign file cannot be used; the message names the file, the step and the fix."""


class FollowupWording(StrEnum):
    CLOSE_PLUS_1 = "close_plus_1"
    CLOSE_PLUS_7 = "close_plus_7"
    AFTER_SWITCH = "after_switch"


assert {w.value for w in FollowupWording} == set(FOLLOWUP_STEPS), "followup template changed"

_TARGETS = Annotated[list[Segment], Field(min_length=1)]


def _no_ready(segments: list[Segment]) -> list[Segment]:
    if Segment.READY in segments:
        raise ValueError("'ready' organizations have a verified Administrator and get no emails")
    if len(set(segments)) != len(segments):
        raise ValueError("a segment is listed twice")
    return segments


class ReminderStep(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: StepName
    day: str
    template: Literal["announcement", "reminder"]
    segments: _TARGETS
    recipients: Recipients = Recipients.CONTACTS

    _segments = field_validator("segments")(_no_ready)

    @field_validator("day")
    @classmethod
    def _day(cls, value: str) -> str:
        day = parse_day(value)
        if day.anchor not in ("opening", "close") or day.offset > 0:
            raise ValueError(f"{value!r}: a reminder's day is 'opening' or 'T-<days>'")
        return value


class FollowupStep(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: StepName
    day: str
    action: Literal["email", "call_list"]
    wording: FollowupWording | None = None
    segments: _TARGETS = Field(
        default_factory=lambda: [Segment.NEVER_REGISTERED, Segment.NOTHING_VERIFIED]
    )
    recipients: Recipients = Recipients.CONTACTS

    _segments = field_validator("segments")(_no_ready)

    @field_validator("day")
    @classmethod
    def _day(cls, value: str) -> str:
        day = parse_day(value)
        if day.anchor not in ("close", "switch") or (day.anchor == "close" and day.offset < 1):
            raise ValueError(
                f"{value!r}: a follow-up's day is 'close+<days>' (1 or more) or 'switch+<days>'"
            )
        return value

    @model_validator(mode="after")
    def _wording(self) -> FollowupStep:
        if self.action == "email" and self.wording is None:
            raise ValueError("an email step needs a wording: " + ", ".join(FOLLOWUP_STEPS))
        if self.action == "call_list" and self.wording is not None:
            raise ValueError("a call list has no wording; remove it")
        return self


class CampaignFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reminder: list[ReminderStep] = Field(default_factory=list)
    followup: list[FollowupStep] = Field(default_factory=list)


@dataclass(frozen=True)
class Day:
    anchor: str  # opening | close | switch
    offset: int  # days after the anchor (negative: before)

    def on(self, calendar: Calendar) -> dt.date:
        base = {
            "opening": calendar.opens_on,
            "close": calendar.closes_on,
            "switch": calendar.switch_on,
        }[self.anchor]
        return base + dt.timedelta(days=self.offset)


def parse_day(value: str) -> Day:
    found = _DAY.match(value.strip()) if isinstance(value, str) else None
    if found is None:
        raise ValueError(
            f"{value!r} is not a day; write opening, T-<days>, close+<days> or switch+<days>"
        )
    if found["opening"]:
        return Day("opening", 0)
    if found["before"] is not None:
        return Day("close", -int(found["before"]))
    return Day(found["anchor"], int(found["after"]))


@dataclass(frozen=True)
class Scheduled:
    """A step on the calendar: its date, and whether it is a reminder or a follow-up."""

    kind: Literal["reminder", "followup"]
    step: ReminderStep | FollowupStep
    date: dt.date

    @property
    def name(self) -> str:
        return self.step.name

    @property
    def action(self) -> str:
        return self.step.action if isinstance(self.step, FollowupStep) else "email"


@dataclass(frozen=True)
class Campaign:
    source: Path
    reminders: tuple[Scheduled, ...]  # by date
    followups: tuple[Scheduled, ...]  # by date

    def step(self, name: str) -> Scheduled:
        for scheduled in (*self.reminders, *self.followups):
            if scheduled.name == name:
                return scheduled
        known = ", ".join(s.name for s in (*self.reminders, *self.followups)) or "none"
        raise CampaignError(f"no step named {name!r} in {self.source} (steps: {known})")

    def reminder_due(self, today: dt.date, calendar: Calendar) -> Scheduled | None:
        """The reminder to send on `today`: the latest one whose day has come, while open."""
        if not calendar.opens_on <= today <= calendar.closes_on:
            return None
        return _latest(self.reminders, today)

    def followups_due(self, today: dt.date) -> list[Scheduled]:
        """The latest email step whose day has come, and every call list whose day has come."""
        latest = _latest([s for s in self.followups if s.action == "email"], today)
        due = [latest] if latest is not None else []
        due += [s for s in self.followups if s.action == "call_list" and s.date <= today]
        return sorted(due, key=lambda s: (s.date, s.name))

    def next_after(self, today: dt.date) -> Scheduled | None:
        upcoming = [s for s in (*self.reminders, *self.followups) if s.date > today]
        return min(upcoming, key=lambda s: s.date) if upcoming else None


def _latest(steps: Sequence[Scheduled], today: dt.date) -> Scheduled | None:
    come = [s for s in steps if s.date <= today]
    return max(come, key=lambda s: s.date) if come else None


def campaign_path(settings: Settings) -> Path:
    return settings.campaign_file or SHIPPED_FILE


def load_campaign(settings: Settings, path: Path | None = None) -> Campaign:
    """Read and check the campaign file against the calendar of `settings`."""
    source = path or campaign_path(settings)
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CampaignError(
            f"campaign file {source} not found; fix SWITCHOVER_CAMPAIGN_FILE or unset it to use "
            f"{SHIPPED_FILE}"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CampaignError(f"campaign file {source} cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CampaignError(f"campaign file {source} is not valid TOML: {exc}") from None
    try:
        parsed = CampaignFile.model_validate(raw)
    except ValidationError as exc:
        raise CampaignError(f"campaign file {source}: {_describe(exc, raw)}") from None
    return _schedule(parsed, source, Calendar.from_settings(settings))


def _describe(error: ValidationError, raw: dict[str, object]) -> str:
    parts = []
    for item in error.errors():
        location = list(item["loc"])
        where = ".".join(str(p) for p in location)
        if len(location) >= 2 and isinstance(location[1], int):
            steps = raw.get(str(location[0]))
            if isinstance(steps, list) and location[1] < len(steps):
                step = steps[location[1]]
                if isinstance(step, dict) and "name" in step:
                    field = ".".join(str(p) for p in location[2:]) or "step"
                    where = f"{location[0]} step {step['name']!r}, {field}"
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def _schedule(parsed: CampaignFile, source: Path, calendar: Calendar) -> Campaign:
    names = [s.name for s in parsed.reminder] + [s.name for s in parsed.followup]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise CampaignError(f"campaign file {source}: step names must differ ({', '.join(twice)})")
    reminders = []
    for step in parsed.reminder:
        date = parse_day(step.day).on(calendar)
        if not calendar.opens_on <= date <= calendar.closes_on:
            raise CampaignError(
                f"campaign file {source}: reminder {step.name!r} falls on {date}, outside "
                f"pre-registration ({calendar.opens_on} to {calendar.closes_on})"
            )
        reminders.append(Scheduled("reminder", step, date))
    followups = [
        Scheduled("followup", step, parse_day(step.day).on(calendar)) for step in parsed.followup
    ]
    for kind, steps in (("reminder", reminders), ("followup", followups)):
        dates = [(s.date, s.action) for s in steps]
        clash = sorted({d for d, a in dates if dates.count((d, a)) > 1})
        if clash:
            raise CampaignError(
                f"campaign file {source}: two {kind} steps fall on {clash[0]}; "
                "give each its own day"
            )
    return Campaign(
        source=source,
        reminders=tuple(sorted(reminders, key=lambda s: s.date)),
        followups=tuple(sorted(followups, key=lambda s: s.date)),
    )


def reminder_mailing(scheduled: Scheduled, calendar: Calendar, as_of: dt.datetime) -> Mailing:
    """The emails of a reminder step as sent at `as_of` (the countdown is taken on that day)."""
    step = scheduled.step
    assert isinstance(step, ReminderStep)
    fixed: dict[str, object] = {}
    if step.template == "reminder":
        days_left = calendar.days_until_close(as_of)
        if days_left < 0:
            raise CampaignError(
                f"reminder {step.name!r} cannot be sent after the close ({calendar.closes_on})"
            )
        fixed["days_left"] = days_left
    return Mailing(
        kind="campaign",
        step=step.name,
        template=step.template,
        segments=frozenset(step.segments),
        recipients=step.recipients,
        fixed=fixed,
    )


def followup_mailing(scheduled: Scheduled) -> Mailing:
    step = scheduled.step
    assert isinstance(step, FollowupStep) and step.wording is not None
    return Mailing(
        kind="followup",
        step=step.name,
        template="followup",
        segments=frozenset(step.segments),
        recipients=step.recipients,
        fixed={"step": step.wording.value},
    )
