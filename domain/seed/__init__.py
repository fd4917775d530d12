"""Demo data: a realistic, reproducible population of customer organizations (`switchover seed`).

`seed_population` is the entry point; the modules underneath are the catalogue of services,
the countries and naming cultures, Faker-built name pools, the row generator and the bulk writer.
"""

from domain.seed.population import (
    DEMO_PASSWORD,
    MAX_KNOWN_PASSWORDS,
    MAX_ORGANIZATIONS,
    SeedSummary,
    seed_population,
)
from domain.seed.store import SeedError

__all__ = [
    "DEMO_PASSWORD",
    "MAX_KNOWN_PASSWORDS",
    "MAX_ORGANIZATIONS",
    "SeedError",
    "SeedSummary",
    "seed_population",
]
