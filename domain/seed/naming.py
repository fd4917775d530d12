"""Names built from the pools: companies, their branches, login IDs, domains and mailboxes.

Each function takes `uniform` (the generator's `random.random`) and draws from it in a fixed
order, so the names depend on the seed alone.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from domain.seed.catalog import OrgType
from domain.seed.cultures import FLAG_FORMATS, SHIP_NAME_WORDS
from domain.seed.geography import Country
from domain.seed.pools import CulturePool, Person
from domain.seed.romanize import slug

Uniform = Callable[[], float]

PLACE_PREFIX_SHARE = 0.4  # 今治共栄海運 rather than 共栄海運, where the culture does that
_INITIALS = "ABCDEFGHJKLMNOPRSTW"  # founders' given names: A.P. Møller, J. Lauritzen
# Words of company names that say nothing about the company (legal forms, connectors).
_NOT_DISTINCTIVE = frozenset((
    "co", "ltd", "inc", "corp", "llc", "sa", "as", "asa", "aps", "gmbh", "kg", "bv", "spa", "srl",
    "pte", "pvt", "limited", "kaisha", "corporation", "company", "the", "and", "of", "sti",
))  # fmt: skip
# Branches and departments that hold their own legacy account: of Japanese companies (English,
# Japanese), and of everybody else.
_DIVISIONS_JA = (
    ("Tokyo Head Office", "東京本社"), ("Technical Division", "工務部"),
    ("Imabari Branch", "今治支店"), ("Kobe Branch", "神戸支店"), ("Osaka Branch", "大阪支店"),
    ("Fukuoka Branch", "福岡支店"), ("Ship Management Dept.", "船舶管理部"),
    ("Newbuilding Dept.", "新造船部"), ("Singapore Branch", "シンガポール支店"),
    ("London Office", "ロンドン事務所"), ("Operations Dept.", "運航部"),
    ("Design Dept.", "設計部"), ("Marine Division", "海務部"),
    ("Quality Assurance Dept.", "品質保証部"),
)  # fmt: skip
_DIVISIONS_EN = (
    "Head Office", "Technical Department", "Operations Department", "Newbuilding Department",
    "Crewing Department", "Fleet Management", "Accounts Department", "Purchasing Department",
    "Singapore Office", "London Office", "Piraeus Office", "Houston Office", "Shanghai Office",
    "Hamburg Office",
)  # fmt: skip

_slug = lru_cache(maxsize=None)(slug)


def company_name(
    country: Country, culture: CulturePool, org_type: OrgType, uniform: Uniform
) -> tuple[str, str | None]:
    """(English name, name in the home script or None)."""
    spec = culture.spec
    formats = FLAG_FORMATS[org_type] if country.flag_of_convenience else spec.formats[org_type]
    fmt = formats[int(uniform() * len(formats))]
    stems = culture.stems
    stem = stems[int(uniform() * len(stems))]
    partner = stems[int(uniform() * len(stems))]
    word = spec.words[int(uniform() * len(spec.words))]
    ship_word = SHIP_NAME_WORDS[int(uniform() * len(SHIP_NAME_WORDS))]
    initials = _INITIALS[int(uniform() * len(_INITIALS))] + "."
    if uniform() < 0.3:
        initials += _INITIALS[int(uniform() * len(_INITIALS))] + "."
    legal = country.legal_forms[int(uniform() * len(country.legal_forms))]
    local_stem, latin_stem = stem.local, stem.latin
    places = culture.places
    if places and uniform() < PLACE_PREFIX_SHARE:
        place = places[int(uniform() * len(places))]
        if place != stem:
            local_stem, latin_stem = place.local + stem.local, f"{place.latin} {stem.latin}"
    name = fmt.english.format(
        r=latin_stem, r2=partner.latin, w=word, x=ship_word, i=initials, legal=legal
    )
    # Single-ship companies under a flag of convenience have no name in the owner's script.
    local = None
    if fmt.local is not None and not country.flag_of_convenience:
        local = fmt.local.format(k=local_stem)
    return name, local


def division_name(culture: CulturePool, index: int) -> tuple[str, str | None]:
    """The `index`-th branch account's suffix, in English and (Japanese companies) Japanese."""
    japanese = culture.spec.key == "ja"
    listed = len(_DIVISIONS_JA) if japanese else len(_DIVISIONS_EN)
    if index < listed:
        return _DIVISIONS_JA[index] if japanese else (_DIVISIONS_EN[index], None)
    number = index - listed + 2
    return f"Account {number}", (f"アカウント{number}" if japanese else None)


def distinctive_words(name: str) -> list[str]:
    """Lower-case ASCII words of a company name without legal forms: for logins and domains."""
    return [w for w in map(_slug, name.split()) if w and w not in _NOT_DISTINCTIVE]


def login_id(name: str, org_id: int, taken: frozenset[str], uniform: Uniform) -> str:
    """Letters from the name (or NK) then the id's digits: unique by construction."""
    letters = "NK"
    if uniform() >= 0.3:
        words = distinctive_words(name)
        derived = "".join(c for c in (words[0] if words else "") if c.isalpha())[:6].upper()
        letters = derived if len(derived) >= 2 else "NK"
    login = f"{letters}{org_id:05d}"
    while login in taken:  # an account someone created by hand
        login += "X"
    return login


def domain_labels(words: list[str], roll: float) -> list[str]:
    """Labels a company could register, the one it prefers first (`roll` picks it):
    yamada-kaiun, yamadakaiun, yamada, or an acronym (ikk for Imabari Kyoei Kaiun)."""
    if len(words) == 1:
        return [words[0]]
    acronym = "".join(w[0] for w in words[:4])
    forms = [
        f"{words[0]}-{words[1]}",
        words[0] + words[1],
        words[0],
        acronym if len(acronym) >= 3 else words[0] + acronym[1:],
        "-".join(words[:3]),
        "".join(words[:3]),
    ]
    preferred = forms[0 if roll < 0.35 else 1 if roll < 0.65 else 2 if roll < 0.85 else 3]
    return list(dict.fromkeys([preferred, *forms]))


def company_mailbox(person: Person, uniform: Uniform) -> str:
    """taro.yamada, t.yamada, yamada.taro, tyamada, yamada-t or yamada (at the company)."""
    given, family = person.given, person.family
    roll = uniform()
    if roll < 0.30:
        return f"{given}.{family}"
    if roll < 0.45:
        return f"{given[:1]}.{family}"
    if roll < 0.55:
        return f"{family}.{given}"
    if roll < 0.70:
        return f"{given[:1]}{family}"
    if roll < 0.85:
        return f"{family}-{given[:1]}"
    return family


def freemail_mailbox(person: Person, uniform: Uniform) -> str:
    """Free-mail names carry a number, as the plain ones were taken long ago."""
    given, family = person.given, person.family
    roll = uniform()
    number = int(uniform() * 100) if uniform() < 0.5 else 1960 + int(uniform() * 45)
    if roll < 0.4:
        return f"{given}.{family}{number}"
    if roll < 0.7:
        return f"{family}{given}{number}"
    return f"{given[:1]}{family}{number}"


def unique_address(address: str, taken: set[str]) -> str:
    """Two contacts of one organization cannot share an address (a unique constraint)."""
    local, _, domain = address.partition("@")
    candidate = address
    number = 2
    while candidate in taken:
        candidate = f"{local}{number}@{domain}"
        number += 1
    taken.add(candidate)
    return candidate
