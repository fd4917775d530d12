"""The organization's shared (legacy) log-in, until the switch turns it off.

Three rules shape this module:
- No enumeration: an unknown login ID, a wrong password and a throttled attempt on a real ID look
  alike from outside — the same outcome for the first two, and a password check against a dummy
  hash when the ID is unknown, so the answer takes about as long.
- Throttling per organization (the ID as typed) and per client address, counted in the database.
  The per-ID count applies whether or not the ID exists, for the same reason.
- A disabled legacy log-in (turned off, or past its grace period) is only revealed to someone
  who knows its password.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Organization
from domain import audit, throttle
from domain.clock import Clock
from domain.passwords import hash_password, needs_rehash, verify_password

WINDOW = dt.timedelta(minutes=15)
PER_ORGANIZATION = throttle.Limit("login_failure_org", 5, WINDOW)
PER_CLIENT = throttle.Limit("login_failure_ip", 20, WINDOW)
MAX_LOGIN_ID_LENGTH = 64
MAX_PASSWORD_LENGTH = 1024  # Argon2 takes anything; a megabyte "password" is an attack.


class Outcome(StrEnum):
    OK = "ok"
    INVALID = "invalid"  # unknown ID or wrong password: deliberately one outcome
    THROTTLED = "throttled"
    DISABLED = "disabled"  # right password, but the organization has switched to personal log-ins


@dataclass(frozen=True)
class LoginResult:
    outcome: Outcome
    organization: Organization | None = None
    retry_after: dt.timedelta = dt.timedelta(0)

    @property
    def retry_after_minutes(self) -> int:
        return throttle.Verdict(False, self.retry_after).retry_after_minutes


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Made with today's parameters, so verifying against it costs what a real check costs.
    return hash_password(secrets.token_urlsafe(24))


def usable(organization: Organization, now: dt.datetime) -> bool:
    """Whether the shared log-in still works: not turned off, and not past a grace period."""
    expires_at = organization.legacy_login_expires_at
    return organization.legacy_login_enabled and (expires_at is None or now < expires_at)


def normalize_login_id(raw: str) -> str:
    return (raw or "").strip()


def find_organization(session: Session, login_id: str) -> Organization | None:
    """The organization with this login ID; people type IDs in lower case too."""
    candidates = {login_id, login_id.upper()}
    return session.scalars(
        select(Organization).where(Organization.legacy_login_id.in_(candidates)).limit(1)
    ).first()


def session_fingerprint(organization: Organization) -> str:
    """Changes whenever the password does, so a password change ends existing sessions."""
    return hashlib.sha256(organization.password_hash.encode("utf-8")).hexdigest()[:16]


def authenticate(
    session: Session,
    clock: Clock,
    *,
    login_id: str,
    password: str,
    client: str,
) -> LoginResult:
    """Check one log-in attempt; the caller commits (failures must be counted even if refused)."""
    typed_id = normalize_login_id(login_id)[:MAX_LOGIN_ID_LENGTH]
    throttle.prune(session, clock)
    for limit, key in ((PER_CLIENT, client), (PER_ORGANIZATION, typed_id)):
        verdict = throttle.check(session, clock, limit, key)
        if not verdict.allowed:
            return LoginResult(Outcome.THROTTLED, retry_after=verdict.retry_after)

    organization = find_organization(session, typed_id) if typed_id else None
    stored = organization.password_hash if organization is not None else _dummy_hash()
    matches = len(password) <= MAX_PASSWORD_LENGTH and verify_password(stored, password)
    if organization is None or not matches:
        throttle.record(session, clock, PER_CLIENT.bucket, client)
        throttle.record(session, clock, PER_ORGANIZATION.bucket, typed_id)
        if organization is not None:
            audit.record(
                session,
                clock,
                actor=f"client:{client}",
                action="legacy_login.failed",
                entity_type="organization",
                entity_id=organization.id,
                organization_id=organization.id,
            )
        return LoginResult(Outcome.INVALID)

    throttle.clear(session, PER_ORGANIZATION.bucket, typed_id)
    if not usable(organization, clock.now()):
        return LoginResult(Outcome.DISABLED, organization)
    if needs_rehash(organization.password_hash):
        organization.password_hash = hash_password(password)
    audit.record(
        session,
        clock,
        actor=f"org:{organization.legacy_login_id}",
        action="legacy_login.succeeded",
        entity_type="organization",
        entity_id=organization.id,
        organization_id=organization.id,
        client=client,
    )
    return LoginResult(Outcome.OK, organization)
