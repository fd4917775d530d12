"""`seed_population`: a realistic, reproducible customer base for demos, tests and benchmarks.

Re-seeding a database that already has organizations *adds* more: ids continue after the
highest existing ones, login IDs carry the new ids (so they never collide), new domains avoid
the ones on file, and the catalogue's services are inserted only where missing. The data of a
run is determined by (seed, first new organization id): the same seed into an empty database
always gives the same rows, and a second run into the same database gives new companies rather
than copies of the first run's.

Passwords: Argon2 costs ~50-150 ms a hash, so 100,000 hashes would take hours. The first
`known_password_count` organizations share one hash of `DEMO_PASSWORD`, which the CLI prints; all
others get one of a few hashes of random secrets that are thrown away, so those logins exist
(the legacy login must look real to the migration) but nobody can use them. Hashes are salted,
so `password_hash` is the one column that differs between two runs with the same seed.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Connection, Engine

from domain.clock import Clock
from domain.passwords import hash_password
from domain.seed.generate import PopulationGenerator
from domain.seed.pools import NamePools
from domain.seed.rows import GENERATED_TABLES, PYTHON_VALUES, Batch, PasswordHashes
from domain.seed.store import (
    BulkWriter,
    SeedError,
    claim_tables,
    encoding_for,
    ensure_services,
    existing_domains,
    existing_login_ids,
    next_ids,
    resync_sequences,
    write_batches,
)

DEMO_PASSWORD = "Portal-Demo-2025!"  # noqa: S105 - printed on purpose: the demo logins' password
MAX_ORGANIZATIONS = 1_000_000
MAX_KNOWN_PASSWORDS = 100
UNKNOWN_PASSWORD_POOL = 4
BATCH_SIZE = 2_000  # organizations per write: ~70,000 rows, a few MB of tuples


@dataclass(frozen=True)
class DemoLogin:
    login_id: str
    name: str
    country: str
    locale: str


@dataclass(frozen=True)
class SeedSummary:
    rows: dict[str, int]  # rows inserted per table, services included
    services_added: int
    first_organization_id: int
    demo_logins: tuple[DemoLogin, ...]  # the organizations whose password is demo_password
    demo_password: str
    elapsed_seconds: float
    seed: int

    @property
    def organizations(self) -> int:
        return self.rows.get("organizations", 0)

    @property
    def demo_login_ids(self) -> tuple[str, ...]:
        return tuple(login.login_id for login in self.demo_logins)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0


def check_arguments(orgs: int, known_password_count: int) -> None:
    if orgs <= 0:
        raise SeedError(f"--orgs must be at least 1 (got {orgs})")
    if orgs > MAX_ORGANIZATIONS:
        raise SeedError(f"--orgs must be at most {MAX_ORGANIZATIONS:,} (got {orgs:,})")
    if not 0 <= known_password_count <= min(orgs, MAX_KNOWN_PASSWORDS):
        raise SeedError(
            f"--known-passwords must be between 0 and {min(orgs, MAX_KNOWN_PASSWORDS)} "
            f"(at most the number of organizations; got {known_password_count})"
        )


def make_password_hashes(pool_size: int = UNKNOWN_PASSWORD_POOL) -> PasswordHashes:
    return PasswordHashes(
        known=hash_password(DEMO_PASSWORD),
        unknown=tuple(hash_password(secrets.token_urlsafe(24)) for _ in range(pool_size)),
    )


@lru_cache(maxsize=2)
def name_pools(seed: int) -> NamePools:
    """Pools are immutable and cost ~0.5 s to draw; a process seeding twice draws once."""
    return NamePools.build(seed)


def prepare_generator(
    connection: Connection,
    *,
    seed: int,
    clock: Clock,
    passwords: PasswordHashes,
    known_password_count: int,
    native_values: bool = True,
) -> tuple[PopulationGenerator, int]:
    """Insert missing services, read what exists, and set up the generator: (generator, added).

    `native_values=False` makes the generator emit Python dates and datetimes instead of the
    driver's own representation, for callers that insert through SQLAlchemy Core.
    """
    services, added = ensure_services(connection)
    generator = PopulationGenerator(
        seed=seed,
        pools=name_pools(seed),
        services=services,
        first_ids=next_ids(connection),
        today=clock.now().date(),  # UTC; the history is monthly, a day either way is immaterial
        passwords=passwords,
        known_password_count=known_password_count,
        encoding=encoding_for(connection) if native_values else PYTHON_VALUES,
        taken_login_ids=existing_login_ids(connection),
        taken_domains=existing_domains(connection),
    )
    return generator, added


def seed_population(
    target: Engine | Connection,
    *,
    orgs: int,
    seed: int,
    clock: Clock,
    known_password_count: int = 5,
) -> SeedSummary:
    """Add `orgs` organizations with domains, contacts, subscriptions and usage history.

    Given an Engine, the seed runs in its own transaction and commits; given a Connection, it
    writes inside the caller's transaction and leaves the commit to the caller.
    """
    check_arguments(orgs, known_password_count)
    started = time.perf_counter()
    with (
        ThreadPoolExecutor(max_workers=1) as background,
        _connection(target) as connection,
    ):
        # Argon2 runs in C without holding the GIL, so the hashes (~0.6 s) are computed while
        # this thread draws the name pools.
        passwords = background.submit(make_password_hashes)
        claim_tables(connection)
        name_pools(seed)
        generator, services_added = prepare_generator(
            connection,
            seed=seed,
            clock=clock,
            passwords=passwords.result(),
            known_password_count=known_password_count,
        )
        first_id = generator.first_ids["organizations"]
        counts: Counter[str] = Counter()
        demo_logins: list[DemoLogin] = []

        def counted() -> Iterator[Batch]:
            for batch in generator.batches(orgs, BATCH_SIZE):
                needed = known_password_count - len(demo_logins)
                for row in batch.rows["organizations"][: max(needed, 0)]:
                    _id, login, name, _local, country, locale, *_ = row
                    demo_logins.append(DemoLogin(str(login), str(name), str(country), str(locale)))
                counts.update(batch.counts())
                yield batch

        postgres = connection.dialect.name == "postgresql"
        write_batches(BulkWriter(connection), counted(), overlap=postgres)
        resync_sequences(connection)
    rows = {"services": services_added, **{t: counts[t] for t in GENERATED_TABLES}}
    return SeedSummary(
        rows=rows,
        services_added=services_added,
        first_organization_id=first_id,
        demo_logins=tuple(demo_logins),
        demo_password=DEMO_PASSWORD,
        elapsed_seconds=time.perf_counter() - started,
        seed=seed,
    )


@contextmanager
def _connection(target: Engine | Connection) -> Iterator[Connection]:
    if isinstance(target, Connection):
        yield target
    else:
        with target.begin() as connection:
            yield connection
