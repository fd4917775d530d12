"""The rows the seed writes: column orders, value encodings, and a batch of rows per table.

The generator produces these and the writers consume them; keeping the contract in one place is
what lets the benchmark insert exactly the rows the seed would write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from domain.seed.catalog import ServiceProfile

Row = tuple[object, ...]

# The columns the seed fills, in the order of the generated tuples; the rest keep their defaults
# (NULL: no login disabled yet, no bounce yet).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "organizations": (
        "id", "legacy_login_id", "name", "name_local", "country", "locale", "password_hash",
        "legacy_login_enabled", "account_manager", "phone", "created_at",
    ),
    "organization_domains": ("id", "organization_id", "domain"),
    "organization_contacts": ("id", "organization_id", "kind", "name", "email"),
    "service_subscriptions": ("id", "organization_id", "service_id", "since"),
    "service_usage": ("id", "organization_id", "service_id", "month", "uses"),
}  # fmt: skip
GENERATED_TABLES = tuple(TABLE_COLUMNS)


@dataclass(frozen=True)
class Encoding:
    """How dates and instants are handed to the driver (Python objects, or SQLite text)."""

    date: Callable[[dt.date], object]
    instant: Callable[[dt.datetime], object]


PYTHON_VALUES = Encoding(date=lambda value: value, instant=lambda value: value)


@dataclass(frozen=True)
class PasswordHashes:
    known: str  # the hash of the printed demo password
    unknown: tuple[str, ...]  # hashes of random secrets nobody keeps


@dataclass(frozen=True)
class ServiceRef:
    id: int
    profile: ServiceProfile


@dataclass
class Batch:
    rows: dict[str, list[Row]] = field(default_factory=lambda: {t: [] for t in TABLE_COLUMNS})

    def counts(self) -> dict[str, int]:
        return {table: len(rows) for table, rows in self.rows.items()}
