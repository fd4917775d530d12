"""The population generator: organizations and everything hanging off them, as plain row tuples.

Speed matters (100,000 organizations with their usage history in well under a minute), so the
generator works on tuples in the column order of `TABLE_COLUMNS`, assigns ids itself (children
need no round-trip to learn their parent's id) and hands values over already in the form the
database driver wants (`Encoding`). One `random.Random` drives everything in a fixed order, so
the same seed and starting ids give the same rows whatever the batch size.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from math import log
from typing import Generic, TypeVar

from domain.seed.catalog import ORG_TYPES, OrgType
from domain.seed.geography import COUNTRIES, Country
from domain.seed.naming import (
    company_mailbox,
    company_name,
    distinctive_words,
    division_name,
    domain_labels,
    freemail_mailbox,
    login_id,
    unique_address,
)
from domain.seed.pools import CulturePool, NamePools
from domain.seed.rows import PYTHON_VALUES, Batch, Encoding, PasswordHashes, ServiceRef

T = TypeVar("T")

HISTORY_MONTHS = 24  # usage history: the full months before the clock's month
PORTAL_OPENED = dt.date(2003, 4, 1)  # the oldest legacy accounts
FREEMAIL_SHARE = 0.10  # contacts on file at gmail.com, yahoo.co.jp, naver.com...
ROLE_MAILBOX_SHARE = 0.25  # info@, technical@, keiri@ rather than a person
DIVISION_SHARE = 0.04  # accounts opened by a branch or department of an existing company
JAPAN_IN_ENGLISH_SHARE = 0.03  # foreign-owned companies in Japan that read English
DORMANT_SHARE = 0.07  # organizations that stopped using the portal some months ago
NAME_ATTEMPTS = 12  # fresh names tried before a repeated one becomes another branch account

_CONTACT_KINDS = ("primary", "technical", "billing")
_CONTACTS_PER_ORG = ((1, 35), (2, 40), (3, 25))
_SUBSCRIPTIONS_PER_ORG = ((2, 30), (3, 35), (4, 22), (5, 13))
_DOMAINS_PER_ORG = ((1, 80), (2, 17), (3, 3))


@dataclass
class _Company:
    """A company already generated, so a later account can be its branch."""

    name: str
    name_local: str | None
    domains: list[str]
    country: Country
    culture: CulturePool
    org_type: OrgType
    locale: str
    divisions_used: int = 0


class _Weighted(Generic[T]):
    """Weighted choice by bisection on cumulative weights: ~4x faster than `Random.choices`."""

    __slots__ = ("cumulative", "items", "total")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.items = [item for item, weight in pairs if weight > 0]
        self.cumulative = list(itertools.accumulate(w for _, w in pairs if w > 0))
        self.total = self.cumulative[-1]

    def pick(self, uniform: Callable[[], float]) -> T:
        return self.items[bisect_right(self.cumulative, uniform() * self.total)]


def history_months(today: dt.date) -> list[dt.date]:
    """The first days of the HISTORY_MONTHS full months before `today`'s month, oldest first."""
    months = []
    year, month = today.year, today.month
    for _ in range(HISTORY_MONTHS):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        months.append(dt.date(year, month, 1))
    return months[::-1]


class PopulationGenerator:
    def __init__(
        self,
        *,
        seed: int,
        pools: NamePools,
        services: Sequence[ServiceRef],
        first_ids: dict[str, int],
        today: dt.date,
        passwords: PasswordHashes,
        known_password_count: int,
        encoding: Encoding = PYTHON_VALUES,
        taken_login_ids: frozenset[str] = frozenset(),
        taken_domains: frozenset[str] = frozenset(),
    ) -> None:
        # The starting id is part of the seed: a second run into the same database continues
        # with new companies instead of repeating the first run's.
        first_org = first_ids["organizations"]
        self._rng = random.Random(f"switchover:{seed}:{first_org}")  # noqa: S311 - demo data
        self._encoding = encoding
        self.first_ids = dict(first_ids)
        self._next = dict(first_ids)
        self._passwords = passwords
        self._known_password_count = known_password_count
        self._taken_logins = taken_login_ids
        self._used_domains = set(taken_domains)
        self._companies: dict[str, _Company] = {}
        self._company_list: list[_Company] = []
        self._generated = 0

        self._countries = _Weighted([(c, c.share) for c in COUNTRIES])
        self._country_cultures = {
            c.code: _Weighted([(pools.cultures[key], w) for key, w in c.cultures])
            for c in COUNTRIES
        }
        self._org_types = {c.code: _Weighted(c.org_type_weights()) for c in COUNTRIES}
        self._tlds = {c.code: _Weighted(c.tlds) for c in COUNTRIES}
        self._freemail = {
            key: _Weighted(pool.spec.freemail) for key, pool in pools.cultures.items()
        }
        self._services = {
            kind: _Weighted([(s, s.profile.weight_for(kind)) for s in services])
            for kind in ORG_TYPES
        }
        self._contact_counts = _Weighted(_CONTACTS_PER_ORG)
        self._subscription_counts = _Weighted(_SUBSCRIPTIONS_PER_ORG)
        self._domain_counts = _Weighted(_DOMAINS_PER_ORG)
        managers = pools.account_managers
        self._account_teams = {
            c.code: self._rng.sample(managers, min(len(managers), 12 if c.code == "JP" else 3))
            for c in COUNTRIES
        }

        months = history_months(today)
        self._month_ordinals = [m.toordinal() for m in months]
        self._encoded_months = [encoding.date(m) for m in months]
        self._oldest = PORTAL_OPENED.toordinal()
        self._newest_account = (today - dt.timedelta(days=90)).toordinal()
        self._newest_subscription = (today - dt.timedelta(days=14)).toordinal()
        self._encoded_dates: dict[int, object] = {}

    def batches(self, count: int, batch_size: int = 2_000) -> Iterator[Batch]:
        """`count` organizations in batches; ids continue from `first_ids`."""
        remaining = count
        while remaining > 0:
            batch = Batch()
            for _ in range(min(batch_size, remaining)):
                self._organization(batch)
            remaining -= min(batch_size, remaining)
            yield batch

    # --- one organization ---

    def _organization(self, batch: Batch) -> None:
        rng = self._rng
        uniform = rng.random
        org_id = self._take_id("organizations")
        company, division = self._company(uniform)
        name, name_local = company.name, company.name_local
        if division is not None:
            english, local = division
            name = f"{name} ({english})"
            if name_local is not None and local is not None:
                name_local = f"{name_local} {local}"
        country = company.country

        ordinal = self._oldest + int((self._newest_account - self._oldest) * uniform() ** 0.8)
        created = dt.datetime.fromordinal(ordinal).replace(tzinfo=dt.UTC) + dt.timedelta(
            seconds=rng.randrange(86_400)
        )
        team = self._account_teams[country.code]
        manager = team[int(uniform() * len(team))] if uniform() < 0.97 else None
        phone = self._phone(country, uniform) if uniform() < 0.95 else None
        index = self._generated
        self._generated += 1
        password_hash = (
            self._passwords.known
            if index < self._known_password_count
            else self._passwords.unknown[index % len(self._passwords.unknown)]
        )
        batch.rows["organizations"].append(
            (
                org_id,
                login_id(name, org_id, self._taken_logins, uniform),
                name,
                name_local,
                country.code,
                company.locale,
                password_hash,
                True,
                manager,
                phone,
                self._encoding.instant(created),
            )
        )
        if division is None:
            company.domains = self._new_domains(company, uniform)
        # A branch writes from the company's main domain: one domain, several organizations.
        domains = company.domains if division is None else company.domains[:1]
        for domain in domains:
            batch.rows["organization_domains"].append(
                (self._take_id("organization_domains"), org_id, domain)
            )
        self._contacts(batch, org_id, company, domains, uniform)
        self._subscriptions(batch, org_id, company.org_type, ordinal, uniform)

    def _division(self, company: _Company) -> tuple[str, str | None]:
        company.divisions_used += 1
        return division_name(company.culture, company.divisions_used - 1)

    def _take_id(self, table: str) -> int:
        value = self._next[table]
        self._next[table] = value + 1
        return value

    def _company(
        self, uniform: Callable[[], float]
    ) -> tuple[_Company, tuple[str, str | None] | None]:
        """A new company, or a branch of one already generated (with its division's name)."""
        if self._company_list and uniform() < DIVISION_SHARE:
            company = self._company_list[int(uniform() * len(self._company_list))]
            return company, self._division(company)
        country = self._countries.pick(uniform)
        culture = self._country_cultures[country.code].pick(uniform)
        org_type = self._org_types[country.code].pick(uniform)
        name, name_local = company_name(country, culture, org_type, uniform)
        existing = self._companies.get(name)
        for _ in range(NAME_ATTEMPTS - 1):
            if existing is None:
                break
            name, name_local = company_name(country, culture, org_type, uniform)
            existing = self._companies.get(name)
        if existing is not None:
            # The names of a culture can run out before 100,000 companies do; then a repeated
            # name becomes another account of that company, as branches often hold one.
            return existing, self._division(existing)
        locale = culture.spec.locale
        if country.code == "JP" and uniform() < JAPAN_IN_ENGLISH_SHARE:
            locale = "en"
        company = _Company(name, name_local, [], country, culture, org_type, locale)
        self._companies[name] = company
        self._company_list.append(company)
        return company, None

    # --- domains and contacts ---

    def _new_domains(self, company: _Company, uniform: Callable[[], float]) -> list[str]:
        """The company's own domains: the main one in its country's TLD, sometimes a .com too."""
        labels = domain_labels(distinctive_words(company.name) or ["mail"], uniform())
        country = company.country.code.lower()
        domains = [
            self._free_domain(labels, self._tlds[company.country.code].pick(uniform), country)
        ]
        for _ in range(self._domain_counts.pick(uniform) - 1):
            if uniform() < 0.3:  # the group's domain next to the company's
                extra_labels = [f"{labels[0].split('-')[0]}-group", *labels]
            else:
                extra_labels = labels
            tld = "com" if uniform() < 0.7 else "net"
            domains.append(self._free_domain(extra_labels, tld, country))
        return domains

    def _free_domain(self, labels: list[str], tld: str, country: str) -> str:
        """The first of `labels` not taken in `tld`; else the first with a country or number."""
        used = self._used_domains
        candidates = itertools.chain(
            labels,
            (f"{labels[0]}-{country}",),
            (f"{labels[0]}{number}" for number in itertools.count(2)),
        )
        for label in candidates:
            domain = f"{label[:63].strip('-')}.{tld}"
            if domain not in used:
                used.add(domain)
                return domain
        raise AssertionError("unreachable: the numbered candidates never run out")

    def _contacts(
        self,
        batch: Batch,
        org_id: int,
        company: _Company,
        domains: list[str],
        uniform: Callable[[], float],
    ) -> None:
        count = self._contact_counts.pick(uniform)
        kinds = ["primary"]
        if count == 2:
            kinds.append("technical" if uniform() < 0.65 else "billing")
        elif count == 3:
            kinds += ["technical", "billing"]
        culture = company.culture
        spec = culture.spec
        people = culture.people
        taken: set[str] = set()
        rows = batch.rows["organization_contacts"]
        for kind in kinds:
            slot = _CONTACT_KINDS.index(kind)
            if uniform() < FREEMAIL_SHARE:
                person = people[int(uniform() * len(people))]
                name = person.display
                provider = self._freemail[spec.key].pick(uniform)
                address = f"{freemail_mailbox(person, uniform)}@{provider}"
            else:
                domain = domains[0] if len(domains) == 1 or uniform() < 0.85 else domains[-1]
                if uniform() < ROLE_MAILBOX_SHARE:
                    boxes = spec.role_mailboxes[slot]
                    local = boxes[int(uniform() * len(boxes))]
                    name = spec.departments[slot]
                else:
                    person = people[int(uniform() * len(people))]
                    local = company_mailbox(person, uniform)
                    name = person.display
                address = f"{local}@{domain}"
            address = unique_address(address, taken)
            rows.append((self._take_id("organization_contacts"), org_id, kind, name, address))

    # --- services and usage ---

    def _subscriptions(
        self,
        batch: Batch,
        org_id: int,
        org_type: OrgType,
        created_ordinal: int,
        uniform: Callable[[], float],
    ) -> None:
        rng = self._rng
        services = self._services[org_type]
        wanted = min(self._subscription_counts.pick(uniform), len(services.items))
        chosen: list[ServiceRef] = []
        while len(chosen) < wanted:
            service = services.pick(uniform)
            if service not in chosen:
                chosen.append(service)
        # Fleet size drives how much an organization uses; a few stopped using the portal.
        size = min(20.0, rng.lognormvariate(0.0, 0.9))
        activity = rng.lognormvariate(0.0, 0.3)
        months = len(self._month_ordinals)
        active_until = rng.randrange(months - 3) if uniform() < DORMANT_SHARE else months
        latest = max(self._newest_subscription, created_ordinal)
        subscriptions = batch.rows["service_subscriptions"]
        usage = batch.rows["service_usage"]
        encoded_months = self._encoded_months
        append_usage = usage.append
        next_usage_id = self._next["service_usage"]
        for position, service in enumerate(chosen):
            if position == 0:  # the service the account was opened for
                since = min(created_ordinal + rng.randrange(60), latest)
            else:
                since = created_ordinal + int((latest - created_ordinal) * uniform() ** 1.5)
            subscriptions.append(
                (
                    self._take_id("service_subscriptions"),
                    org_id,
                    service.id,
                    self._encoded_date(since),
                )
            )
            profile = service.profile
            service_id = service.id
            probability = min(0.97, profile.monthly_probability * activity)
            mean = max(0.5, profile.mean_uses * size)
            since_month = dt.date.fromordinal(since).replace(day=1).toordinal()
            # The hot loop of the whole seed (~30 rows per organization): uses are exponentially
            # distributed, inlined as -log(1 - u) * mean to save a call per row.
            for month in range(bisect_left(self._month_ordinals, since_month), active_until):
                if uniform() < probability:
                    uses = 1 + int(-log(1.0 - uniform()) * mean)
                    append_usage((next_usage_id, org_id, service_id, encoded_months[month], uses))
                    next_usage_id += 1
        self._next["service_usage"] = next_usage_id

    def _encoded_date(self, ordinal: int) -> object:
        encoded = self._encoded_dates.get(ordinal)
        if encoded is None:
            encoded = self._encoding.date(dt.date.fromordinal(ordinal))
            self._encoded_dates[ordinal] = encoded
        return encoded

    def _phone(self, country: Country, uniform: Callable[[], float]) -> str:
        pattern = country.phone_formats[int(uniform() * len(country.phone_formats))]
        digits = pattern.count("#")
        filled = iter(f"{int(uniform() * 10**digits):0{digits}d}")
        return f"+{country.calling_code} " + "".join(
            next(filled) if c == "#" else c for c in pattern
        )
