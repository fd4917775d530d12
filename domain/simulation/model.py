"""How the simulated people behave: every probability and delay of the calendar simulator.

The defaults describe a plausible B2B customer base — most organizations answer a reminder
within a few days, a tenth never do, a few addresses are mistyped or dead, corporate mail
gateways open links before people do, some people click too late. They are assumptions, not
measurements: `switchover simulate --model FILE` reads a TOML file with any of these fields to
try others ("what if only half the organizations read the announcement?").
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Probability = Annotated[float, Field(ge=0, le=1)]
Days = Annotated[float, Field(ge=0, le=120)]


class ModelError(ValueError):
    """The behaviour file cannot be used; the message names the field and the fix."""


class Behaviour(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # --- organizations ---
    dormant_share: Probability = 0.08  # never read, never act, never call
    register_on_step: dict[str, Probability] = Field(
        default_factory=lambda: {
            "announcement": 0.30,
            "T-60": 0.22,
            "T-30": 0.28,
            "T-14": 0.32,
            "T-7": 0.38,
            "T-3": 0.40,
            "T-1": 0.45,
        },
        description="Chance that an organization that never registered does so after receiving "
        "this step (steps not listed: `register_on_other_step`).",
    )
    register_on_other_step: Probability = 0.25
    spontaneous_per_day: Probability = 0.002  # registers without any reminder, on any open day
    reaction_median_days: Days = 1.5  # from the email to the organization's log-in
    fix_on_reminder: Probability = 0.45  # not ready, reminded: resends, re-registers, adds an admin
    people_mean: Annotated[float, Field(ge=1, le=20)] = 1.8  # people registered per organization
    first_is_admin: Probability = 0.85
    other_admin: Probability = 0.15
    other_visitor: Probability = 0.25

    # --- addresses ---
    free_mail: Probability = 0.03  # gmail & co: the form warns, people submit anyway
    typo: Probability = 0.015  # a mistyped domain: bounces
    dead_mailbox: Probability = 0.02  # the domain is right, the mailbox is not: bounces
    rejected_at_smtp: Probability = 0.3  # of the bouncing addresses, refused by the relay at once
    dead_contact: Probability = 0.03  # contacts on file whose mailbox no longer exists
    link_scanner: Probability = 0.10  # organizations whose mail gateway opens every link

    # --- people and their links ---
    click_prompt: Probability = 0.60  # within hours
    click_slow: Probability = 0.15  # within days
    click_late: Probability = 0.07  # after the link expired
    # the rest never click on their own; a nudge moves some of them
    click_after_nudge: Probability = 0.35
    prompt_median_hours: Annotated[float, Field(gt=0, le=72)] = 3.0
    slow_days: tuple[Days, Days] = (1.0, 9.0)
    late_days_after_expiry: tuple[Days, Days] = (1.0, 12.0)
    report_expired_to_org: Probability = 0.6  # the organization resends the link

    # --- helpdesk ---
    helpdesk_on_expired: Probability = 0.3
    helpdesk_on_not_received: Probability = 0.25
    helpdesk_after_close: Probability = 0.35  # not ready after the close, follow-up received
    helpdesk_after_switch: Probability = 0.5  # cannot log in after the switch
    helpdesk_by_email: Probability = 0.5  # else the contact form
    helpdesk_reply: Probability = 0.2  # writes again on the same thread a day later
    agent_days: tuple[Days, Days] = (0.5, 3.0)  # from the request to the agent's recovery

    @model_validator(mode="after")
    def _consistent(self) -> Behaviour:
        if self.click_prompt + self.click_slow + self.click_late > 1:
            raise ValueError("click_prompt + click_slow + click_late must be at most 1")
        if self.free_mail + self.typo + self.dead_mailbox > 1:
            raise ValueError("free_mail + typo + dead_mailbox must be at most 1")
        for name in ("slow_days", "late_days_after_expiry", "agent_days"):
            low, high = getattr(self, name)
            if low > high:
                raise ValueError(f"{name}: the first number must not exceed the second")
        return self

    def register_chance(self, step: str) -> float:
        return self.register_on_step.get(step, self.register_on_other_step)


def load_behaviour(path: Path | None) -> Behaviour:
    """The defaults, or the defaults overridden by a TOML file."""
    if path is None:
        return Behaviour()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"behaviour file {path} not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ModelError(f"behaviour file {path} cannot be read: {exc}") from None
    try:
        return Behaviour.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'file'}: "
            + error["msg"].removeprefix("Value error, ")
            for error in exc.errors()
        )
        raise ModelError(f"behaviour file {path}: {problems}") from None
