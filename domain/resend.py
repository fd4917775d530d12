"""An organization asks for a fresh verification link for one of its registrations.

Resending is cheap for the organization and costly for the recipient (and for our sender's
reputation), so it is rate-limited per registration: not within ten minutes of the last link, and
at most five resends in a day. Each resend revokes the earlier links (`issue_link` does that).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.enums import RegistrationStatus
from db.models import Registration, VerificationToken
from domain import throttle
from domain.clock import Clock
from domain.settings import Settings
from domain.verification import issue_link

MIN_INTERVAL = dt.timedelta(minutes=10)
PER_DAY = throttle.Limit("resend_link", 5, dt.timedelta(days=1))
RESENDABLE = (RegistrationStatus.PENDING, RegistrationStatus.EXPIRED)


class ResendRefused(Exception):
    """No link was sent; `reason` is 'status', 'too_soon' or 'daily_limit'."""

    def __init__(self, reason: str, retry_after: dt.timedelta = dt.timedelta(0)) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after

    @property
    def retry_after_minutes(self) -> int:
        return throttle.Verdict(False, self.retry_after).retry_after_minutes


@dataclass(frozen=True)
class Resent:
    registration: Registration
    raw_token: str


def last_link_at(session: Session, registration_id: int) -> dt.datetime | None:
    return session.scalar(
        select(func.max(VerificationToken.created_at)).where(
            VerificationToken.registration_id == registration_id
        )
    )


def resend(
    session: Session,
    clock: Clock,
    settings: Settings,
    registration: Registration,
    *,
    actor: str,
) -> Resent:
    if registration.status not in RESENDABLE:
        raise ResendRefused("status")
    now = clock.now()
    last = last_link_at(session, registration.id)
    if last is not None and now - last < MIN_INTERVAL:
        raise ResendRefused("too_soon", retry_after=last + MIN_INTERVAL - now)
    key = str(registration.id)
    verdict = throttle.check(session, clock, PER_DAY, key)
    if not verdict.allowed:
        raise ResendRefused("daily_limit", retry_after=verdict.retry_after)
    raw = issue_link(session, clock, settings, registration, template="verification", actor=actor)
    throttle.record(session, clock, PER_DAY.bucket, key)
    return Resent(registration, raw)
