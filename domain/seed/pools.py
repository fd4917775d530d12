"""Pools of names drawn from Faker once, up front, for the fast generator to combine.

Calling Faker per organization would cost tens of microseconds a name; drawing a few hundred
names per culture once and combining them with `random.Random` keeps 100,000 organizations
within seconds while the names stay those of Faker's locales. Each culture has its own Faker
instance seeded from the run's seed, so the pools are reproducible and independent of each other.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from faker import Faker

from domain.seed.cultures import CULTURES, KATAKANA_LETTERS, CultureSpec
from domain.seed.romanize import (
    ascii_fold,
    greek_to_latin,
    hangul_to_latin,
    korean_surname_to_latin,
    slug,
)

PEOPLE_PER_CULTURE = 300
STEMS_PER_CULTURE = 800  # Faker draws; popular surnames come up more often, as in life
CITY_STEMS = 200  # Faker city names, for Western companies named after their home port
ACCOUNT_MANAGERS = 36


@dataclass(frozen=True)
class Person:
    display: str  # as filed: 山田 太郎, 김민준, Maria Papadopoulou
    given: str  # ASCII, lower-case: what goes into an address
    family: str


@dataclass(frozen=True)
class Stem:
    local: str  # in the home script (山田, 대양, Παπαδόπουλος) or the Latin name itself
    latin: str


@dataclass(frozen=True)
class CulturePool:
    spec: CultureSpec
    stems: tuple[Stem, ...]
    places: tuple[Stem, ...]
    people: tuple[Person, ...]


@dataclass(frozen=True)
class NamePools:
    cultures: dict[str, CulturePool]
    account_managers: tuple[str, ...]  # the society's own staff, in Latin letters

    @classmethod
    def build(cls, seed: int) -> NamePools:
        cultures = {key: _culture_pool(spec, seed) for key, spec in CULTURES.items()}
        staff = _faker("ja_JP", seed, "account-managers")
        managers = tuple(
            f"{staff.first_romanized_name()} {staff.last_romanized_name()}"
            for _ in range(ACCOUNT_MANAGERS)
        )
        return cls(cultures=cultures, account_managers=managers)


def _faker(locale: str, seed: int, purpose: str) -> Faker:
    fake = Faker(locale)
    # A string seed is hashed deterministically by `random.seed` (no PYTHONHASHSEED effect).
    fake.seed_instance(f"{seed}:{purpose}")
    return fake


def _culture_pool(spec: CultureSpec, seed: int) -> CulturePool:
    fake = _faker(spec.faker_locale, seed, spec.key)
    rng = random.Random(f"{seed}:{spec.key}:stems")  # noqa: S311 - demo data, not secrets
    places = tuple(Stem(local, latin) for local, latin in spec.places)
    stems = (
        tuple(Stem(local, latin) for local, latin in spec.stems)
        + places
        + _faker_stems(spec, fake, rng)
        + _compound_stems(spec)
        + _initial_stems(spec, rng)
    )
    people = tuple(_person(spec, fake, i) for i in range(PEOPLE_PER_CULTURE))
    return CulturePool(spec=spec, stems=stems, places=places, people=people)


def _compound_stems(spec: CultureSpec) -> tuple[Stem, ...]:
    """Every ordered pair of distinct syllables: 30 syllables give 870 stems."""
    separator = spec.syllable_separator
    stems = []
    for (local_a, latin_a), (local_b, latin_b) in itertools.product(spec.syllables, repeat=2):
        if latin_a == latin_b:  # 光興 "Koko", 信進 "Shinshin": nobody names a firm like that
            continue
        latin = latin_a + separator + (latin_b if separator else latin_b.lower())
        # Latin-script syllables (Singapore's Hokkien names) are their own local spelling.
        local = latin if local_a == latin_a else local_a + local_b
        stems.append(Stem(local, latin))
    return tuple(stems)


def _initial_stems(spec: CultureSpec, rng: random.Random) -> tuple[Stem, ...]:
    letters = sorted(KATAKANA_LETTERS)
    stems = []
    for _ in range(spec.initial_stems):
        initials = "".join(rng.sample(letters, 3 if rng.random() < 0.2 else 2))
        stems.append(Stem("".join(KATAKANA_LETTERS[c] for c in initials), initials))
    return tuple(stems)


def _faker_stems(spec: CultureSpec, fake: Faker, rng: random.Random) -> tuple[Stem, ...]:
    """Surnames as company-name stems where that is the custom (Japan, Greece, the West)."""
    if spec.key == "ja":  # Faker knows 50 surnames; the listed stems and compounds add the rest
        pairs = (fake.last_name_pair() for _ in range(STEMS_PER_CULTURE // 5))
        return tuple(Stem(kanji, latin) for kanji, _kana, latin in pairs)
    if spec.key == "el":
        names = (fake.last_name_male() for _ in range(STEMS_PER_CULTURE))
        return tuple(Stem(name, greek_to_latin(name)) for name in names)
    if spec.syllables:  # Chinese, Korean and Singaporean names are compounds, not surnames
        return ()
    surnames = (fake.last_name() for _ in range(STEMS_PER_CULTURE))
    return tuple(Stem(name, name) for name in itertools.chain(surnames, _cities(fake, rng)))


def _cities(fake: Faker, rng: random.Random) -> list[str]:
    # Some locales list their cities in the order of a set (Faker's it_IT builds the list with a
    # set comprehension), which changes with PYTHONHASHSEED; drawing from that list by position
    # would make the same seed give other names in another process. So: sorted, sampled here.
    listed = getattr(getattr(fake.city, "__self__", None), "cities", None)
    if isinstance(listed, list | tuple) and len(listed) >= CITY_STEMS:
        return rng.sample(sorted(listed), CITY_STEMS)
    return [fake.city() for _ in range(CITY_STEMS)]


def _person(spec: CultureSpec, fake: Faker, index: int) -> Person:
    key = spec.key
    if key == "ja":
        family_k, _, family_r = fake.last_name_pair()
        given_k, _, given_r = fake.first_name_pair()
        return Person(f"{family_k} {given_k}", slug(given_r), slug(family_r))
    if key == "ko":
        family, given = fake.last_name(), fake.first_name()
        return Person(
            f"{family}{given}", slug(hangul_to_latin(given)), slug(korean_surname_to_latin(family))
        )
    if key in ("zh-cn", "zh-tw"):
        given_r = fake.first_romanized_name().title()
        family_r = fake.last_romanized_name().title()
        return Person(f"{given_r} {family_r}", slug(given_r), slug(family_r))
    if key == "el":
        female = index % 2 == 1
        given = greek_to_latin(fake.first_name_female() if female else fake.first_name_male())
        family = greek_to_latin(fake.last_name_female() if female else fake.last_name_male())
        return Person(f"{given} {family}", slug(given), slug(family))
    given = fake.first_name()
    if spec.family_names:
        family = spec.family_names[fake.random_int(0, len(spec.family_names) - 1)]
    else:
        family = fake.last_name()
    german = spec.german_umlauts
    return Person(
        f"{given} {family}",
        slug(ascii_fold(given, german=german)),
        slug(ascii_fold(family, german=german)),
    )
