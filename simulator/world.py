"""The simulation's world: its own database, seeded customers, settings, folders, passwords.

A simulation never touches the operator's database: it creates ``simulation.db`` in its output
folder (or uses an empty PostgreSQL database it is given), seeds it with `seed_population`, and
runs with settings that point mail at its own relay and links at the in-process portal.

Passwords: organizations log in through the portal's real log-in form, which checks Argon2
hashes. At production cost (0.5 s a check on a busy two-core machine) the log-ins alone would
take most of an hour at 5,000 organizations, so for the length of a simulation the process
hashes with Argon2id at minimal cost (`cheap_password_hashing`); the rules around the hash —
throttling, rehashing, sessions — are the production ones.
"""

from __future__ import annotations

import datetime as dt
import mailbox
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from pydantic import SecretStr
from sqlalchemy import Engine, func, select, update
from sqlalchemy.engine import make_url

from db import schema
from db.engine import make_engine
from db.models import Organization, OrganizationContact, OrganizationDomain
from domain import legacy_login, passwords
from domain.clock import Clock
from domain.seed import seed_population
from domain.settings import Settings, load_settings

SIMULATION_PASSWORD = "Simulated-Organization-2025"  # noqa: S105 - every simulated org's password
PORTAL_URL = "http://portal.simulation.invalid"


class WorldError(ValueError):
    """The simulation cannot start as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Folders:
    out: Path
    bounces: Path  # the bounce mailbox the relay's delivery reports land in
    support: Path  # the helpdesk's support mailbox

    @classmethod
    def create(cls, out: Path) -> Folders:
        out.mkdir(parents=True, exist_ok=True)
        folders = cls(out, out / "bounces", out / "support-mailbox")
        for path in (folders.bounces, folders.support):
            shutil.rmtree(path, ignore_errors=True)  # a previous run's mail
            mailbox.Maildir(path, create=True)
        return folders


@contextmanager
def cheap_password_hashing() -> Iterator[None]:
    """Argon2id at minimal cost in this process until the block ends (see the module doc)."""
    # A private attribute of our own module, swapped for the simulation only and restored.
    original = passwords._HASHER
    passwords._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    legacy_login._dummy_hash.cache_clear()
    try:
        yield
    finally:
        passwords._HASHER = original
        legacy_login._dummy_hash.cache_clear()


def database_url(out: Path, given: str | None) -> str:
    if given:
        return given
    path = out / "simulation.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def simulation_settings(url: str, smtp_port: int, folders: Folders) -> Settings:
    """The operator's settings (calendar, campaign file, templates' wording) made local."""
    return load_settings(
        database_url=url,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_security="none",
        smtp_username=None,
        smtp_password=None,
        mail_rate_per_second=0.0,
        portal_base_url=PORTAL_URL,
        portal_secret_key=SecretStr(secrets.token_urlsafe(32)),
        bounce_maildir=folders.bounces,
        helpdesk_maildir=folders.support,
        helpdesk_imap_host=None,
        mx_check=False,
        demo_mode=False,
        clock_at=None,
    )


def create_database(url: str) -> Engine:
    """The simulation's database at the current schema; refused when it holds customers."""
    engine = make_engine(url)
    try:
        schema.upgrade(engine)
        with engine.connect() as connection:
            if connection.scalar(select(func.count()).select_from(Organization)):
                where = make_url(url).render_as_string(hide_password=True)
                raise WorldError(
                    f"{where} already holds organizations; the simulation needs an empty database "
                    "(it is its own world: give a new one, or leave --database-url out)"
                )
    except BaseException:
        engine.dispose()
        raise
    return engine


def seed(engine: Engine, *, orgs: int, seed_value: int, clock: Clock) -> None:
    """Seed `orgs` organizations; every one logs in with `SIMULATION_PASSWORD`."""
    seed_population(engine, orgs=orgs, seed=seed_value, clock=clock, known_password_count=0)
    with engine.begin() as connection:
        connection.execute(
            update(Organization).values(password_hash=passwords.hash_password(SIMULATION_PASSWORD))
        )


def first_domains(engine: Engine) -> dict[int, str]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                OrganizationDomain.organization_id, func.min(OrganizationDomain.domain)
            ).group_by(OrganizationDomain.organization_id)
        ).all()
    return {int(org): str(domain) for org, domain in rows}


def contact_addresses(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as connection:
        return [
            (int(contact_id), str(email))
            for contact_id, email in connection.execute(
                select(OrganizationContact.id, OrganizationContact.email)
            )
        ]


def day_start(settings: Settings, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=settings.tz).astimezone(dt.UTC)
