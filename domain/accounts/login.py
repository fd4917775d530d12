"""The individual log-in: email address and password.

The rules of the organization log-in (`domain.legacy_login`) hold here too: an unknown address,
an account without a password yet and a wrong password get one answer, checked against a dummy
hash so each takes as long; failures are counted per address and per client in the database.
A disabled account (its organization's migration was rolled back) is revealed only to someone who
gives its right password.
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

from db.enums import PersonStatus
from db.models import Person
from domain import audit, throttle
from domain.accounts import password_rules
from domain.clock import Clock
from domain.passwords import hash_password, needs_rehash, verify_password

WINDOW = dt.timedelta(minutes=15)
PER_ADDRESS = throttle.Limit("person_login_email", 5, WINDOW)
PER_CLIENT = throttle.Limit("person_login_ip", 20, WINDOW)
MAX_EMAIL_LENGTH = 320


class Outcome(StrEnum):
    OK = "ok"
    INVALID = "invalid"  # unknown address, no password yet, or wrong password: one outcome
    THROTTLED = "throttled"
    DISABLED = "disabled"  # right password, but the account is switched off


@dataclass(frozen=True)
class LoginResult:
    outcome: Outcome
    person: Person | None = None
    retry_after: dt.timedelta = dt.timedelta(0)

    @property
    def retry_after_minutes(self) -> int:
        return throttle.Verdict(False, self.retry_after).retry_after_minutes


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Made with today's parameters, so checking against it costs what a real check costs.
    return hash_password(secrets.token_urlsafe(24))


def normalize_email(raw: str) -> str:
    """The stored form of a typed address, without refusing anything (a typo is just unknown)."""
    return (raw or "").strip().lower()[:MAX_EMAIL_LENGTH]


def session_fingerprint(person: Person) -> str:
    """Changes whenever the password does, so setting a new one ends the other sessions."""
    return hashlib.sha256((person.password_hash or "").encode("utf-8")).hexdigest()[:16]


def authenticate(
    session: Session, clock: Clock, *, email: str, password: str, client: str
) -> LoginResult:
    """Check one log-in attempt; the caller commits (failures must be counted even if refused)."""
    typed = normalize_email(email)
    throttle.prune(session, clock)
    for limit, key in ((PER_CLIENT, client), (PER_ADDRESS, typed)):
        verdict = throttle.check(session, clock, limit, key)
        if not verdict.allowed:
            return LoginResult(Outcome.THROTTLED, retry_after=verdict.retry_after)
    person = session.scalars(select(Person).where(Person.email == typed)).first() if typed else None
    stored = person.password_hash if person is not None and person.password_hash else None
    value = password_rules.normalize(password)
    matches = (
        len(value) <= password_rules.MAX_LENGTH
        and verify_password(stored or _dummy_hash(), value)
        and stored is not None
    )
    if person is None or not matches:
        throttle.record(session, clock, PER_CLIENT.bucket, client)
        throttle.record(session, clock, PER_ADDRESS.bucket, typed)
        if person is not None:
            audit.record(
                session,
                clock,
                actor=f"client:{client}",
                action="person.login_failed",
                entity_type="person",
                entity_id=person.id,
            )
        return LoginResult(Outcome.INVALID)
    throttle.clear(session, PER_ADDRESS.bucket, typed)
    if person.status is not PersonStatus.ACTIVE:
        return LoginResult(Outcome.DISABLED, person)
    if stored is not None and needs_rehash(stored):
        person.password_hash = hash_password(value)
    person.last_login_at = clock.now()
    audit.record(
        session,
        clock,
        actor=f"person:{person.id}",
        action="person.logged_in",
        entity_type="person",
        entity_id=person.id,
        client=client,
    )
    return LoginResult(Outcome.OK, person)
