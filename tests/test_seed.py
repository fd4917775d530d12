from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cli.main import app as cli
from db.enums import ContactKind
from db.models import (
    Base,
    Organization,
    OrganizationContact,
    OrganizationDomain,
    Service,
    ServiceSubscription,
    ServiceUsage,
)
from domain.clock import FixedClock
from domain.passwords import needs_rehash, verify_password
from domain.seed import DEMO_PASSWORD, SeedError, seed_population
from domain.seed.catalog import SERVICES
from domain.seed.cultures import CULTURES
from domain.seed.generate import HISTORY_MONTHS, PopulationGenerator, history_months
from domain.seed.naming import distinctive_words, domain_labels, login_id
from domain.seed.population import name_pools
from domain.seed.romanize import (
    ascii_fold,
    greek_to_latin,
    hangul_to_latin,
    korean_surname_to_latin,
    slug,
)
from domain.seed.rows import GENERATED_TABLES, Batch, PasswordHashes, Row, ServiceRef
from domain.seed.store import write_batches

runner = CliRunner()
SEEDED_TABLES = ("services", *GENERATED_TABLES)
FREEMAIL = {domain for culture in CULTURES.values() for domain, _ in culture.freemail}
JAPANESE_SCRIPT = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
LOGIN_ID = re.compile(r"^[A-Z]{2,6}\d{5,}$")


# --- the generator alone: reproducibility ---


def _generate(
    seed: int,
    orgs: int,
    *,
    batch_size: int = 500,
    first_org: int = 1,
    taken_login_ids: frozenset[str] = frozenset(),
    taken_domains: frozenset[str] = frozenset(),
) -> list[Row]:
    generator = PopulationGenerator(
        seed=seed,
        pools=name_pools(seed),
        services=[ServiceRef(i + 1, s) for i, s in enumerate(SERVICES)],
        first_ids={
            table: first_org if table == "organizations" else 1 for table in GENERATED_TABLES
        },
        today=dt.date(2025, 7, 1),
        passwords=PasswordHashes(known="known-hash", unknown=("u1", "u2", "u3")),
        known_password_count=5,
        taken_login_ids=taken_login_ids,
        taken_domains=taken_domains,
    )
    rows: dict[str, list[Row]] = {table: [] for table in GENERATED_TABLES}
    for batch in generator.batches(orgs, batch_size):
        for table in GENERATED_TABLES:
            rows[table] += batch.rows[table]
    return [(table, *row) for table in GENERATED_TABLES for row in rows[table]]


def test_same_seed_gives_the_same_rows_whatever_the_batch_size() -> None:
    first = _generate(7, 150)
    assert first == _generate(7, 150, batch_size=13)
    assert len(first) > 150 * 10  # organizations with domains, contacts and usage


def test_another_seed_gives_other_companies() -> None:
    names = {row[3] for row in _generate(7, 150) if row[0] == "organizations"}
    other = {row[3] for row in _generate(8, 150) if row[0] == "organizations"}
    assert len(names & other) < 15


def test_a_second_run_continues_with_new_companies_not_copies() -> None:
    first = [row[3] for row in _generate(7, 60) if row[0] == "organizations"]
    second = [row[3] for row in _generate(7, 60, first_org=61) if row[0] == "organizations"]
    assert len(set(first) & set(second)) < 6


_DIGEST_SCRIPT = """
import hashlib
from domain.seed.population import name_pools
from tests.test_seed import _generate
print(hashlib.sha256(repr((name_pools(2025), _generate(2025, 300))).encode()).hexdigest())
"""


def test_same_seed_gives_the_same_rows_in_another_process() -> None:
    # Set and dict order of strings changes with PYTHONHASHSEED; a pool drawn from such an
    # order (as Faker's it_IT city list once was) would break reproducibility between runs.
    root = Path(__file__).resolve().parent.parent
    digests = set()
    for hash_seed in ("1", "2"):
        environment = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", _DIGEST_SCRIPT],
            cwd=root,
            env=environment,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        digests.add(done.stdout.strip())
    assert len(digests) == 1


def test_logins_and_domains_on_file_are_never_reused() -> None:
    first = _generate(7, 1)
    login = str(next(row[2] for row in first if row[0] == "organizations"))
    domain = str(next(row[3] for row in first if row[0] == "organization_domains"))
    again = _generate(7, 1, taken_login_ids=frozenset({login}), taken_domains=frozenset({domain}))
    assert next(row[2] for row in again if row[0] == "organizations") == f"{login}X"
    assert next(row[3] for row in again if row[0] == "organization_domains") != domain


def test_login_ids_domains_and_romanization() -> None:
    assert login_id("Yamada Kaiun Co., Ltd.", 7, frozenset(), lambda: 0.9) == "YAMADA00007"
    assert login_id("Yamada Kaiun Co., Ltd.", 123456, frozenset(), lambda: 0.1) == "NK123456"
    assert distinctive_words("Reederei Müller GmbH & Co. KG") == ["reederei", "muller"]
    assert domain_labels(["imabari", "kyoei", "kaiun"], 0.0)[:4] == [
        "imabari-kyoei",
        "imabarikyoei",
        "imabari",
        "ikk",
    ]
    assert domain_labels(["imabari", "kyoei", "kaiun"], 0.9)[0] == "ikk"
    assert greek_to_latin("Παπαδόπουλος") == "Papadopoulos"
    assert greek_to_latin("Μπαλτατζής") == "Baltatzis"
    assert hangul_to_latin("민준") == "Minjun"
    assert korean_surname_to_latin("박") == "Park"
    assert ascii_fold("Müller", german=True) == "Mueller"
    assert slug("Sørensen & Søn") == "sorensenson"


class _RecordingWriter:
    def __init__(self, fail_on: int | None = None) -> None:
        self.written: list[Batch] = []
        self.fail_on = fail_on

    def write(self, batch: Batch) -> None:
        if len(self.written) == self.fail_on:
            raise RuntimeError("disk full")
        self.written.append(batch)


@pytest.mark.parametrize("overlap", [False, True])
def test_batches_are_written_in_order(overlap: bool) -> None:
    batches = [Batch() for _ in range(7)]
    writer = _RecordingWriter()
    write_batches(writer, iter(batches), overlap=overlap)
    assert [id(b) for b in writer.written] == [id(b) for b in batches]


def test_a_failing_writer_stops_the_generation() -> None:
    generated = 0

    def batches() -> Iterator[Batch]:
        nonlocal generated
        for _ in range(1_000):
            generated += 1
            yield Batch()

    with pytest.raises(RuntimeError, match="disk full"):
        write_batches(_RecordingWriter(fail_on=2), batches(), overlap=True)
    assert generated < 10  # the writer's error stopped the generator, not the end of input


def test_history_is_the_full_months_before_the_clock() -> None:
    months = history_months(dt.date(2025, 7, 1))
    assert len(months) == HISTORY_MONTHS
    assert months[0] == dt.date(2023, 7, 1)
    assert months[-1] == dt.date(2025, 6, 1)


# --- seeding a database ---


def _count(session: Session, model: type[Base]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_population_has_the_expected_shape(engine: Engine, clock: FixedClock) -> None:
    summary = seed_population(engine, orgs=300, seed=11, clock=clock)
    now = clock.now()
    with Session(engine) as session:
        for name, expected in summary.rows.items():
            count = select(func.count()).select_from(Base.metadata.tables[name])
            assert session.scalar(count) == expected, name
        assert summary.rows["organizations"] == 300
        assert summary.rows["services"] == len(SERVICES)

        services = session.scalars(select(Service)).all()
        assert 10 <= len(services) <= 14
        assert all(JAPANESE_SCRIPT.search(s.name_ja) for s in services)
        assert {s.requires_preregistration for s in services} == {True, False}

        orgs = session.scalars(select(Organization)).all()
        domains: dict[int, set[str]] = {}
        for known in session.scalars(select(OrganizationDomain)):
            assert known.domain == known.domain.lower() and "." in known.domain
            domains.setdefault(known.organization_id, set()).add(known.domain)
        contacts: dict[int, list[OrganizationContact]] = {}
        for contact in session.scalars(select(OrganizationContact)):
            contacts.setdefault(contact.organization_id, []).append(contact)
        for org in orgs:
            assert LOGIN_ID.match(org.legacy_login_id), org.legacy_login_id
            assert org.legacy_login_enabled and org.legacy_login_disabled_at is None
            assert org.created_at < now
            assert domains.get(org.id), f"{org.name} has no domain"
            kinds = [c.kind for c in contacts.get(org.id, [])]
            assert 1 <= len(kinds) <= 3 and kinds.count(ContactKind.PRIMARY) == 1, org.name
        assert len({o.legacy_login_id for o in orgs}) == 300

        all_contacts = [c for group in contacts.values() for c in group]
        on_freemail = [
            c for c in all_contacts if c.email.split("@")[1] not in domains[c.organization_id]
        ]
        assert all(c.email.split("@")[1] in FREEMAIL for c in on_freemail)
        assert 0.03 <= len(on_freemail) / len(all_contacts) <= 0.2
        assert all(c.email == c.email.lower() and c.email.count("@") == 1 for c in all_contacts)

        japanese = [o for o in orgs if o.country == "JP"]
        assert 0.3 <= len(japanese) / len(orgs) <= 0.5
        assert all(o.name_local and JAPANESE_SCRIPT.search(o.name_local) for o in japanese)
        assert sum(o.locale == "ja" for o in japanese) / len(japanese) >= 0.85
        assert len({o.country for o in orgs}) >= 10

        since = {
            (s.organization_id, s.service_id): s.since
            for s in session.scalars(select(ServiceSubscription))
        }
        per_org = [sum(1 for key in since if key[0] == org.id) for org in orgs]
        assert min(per_org) >= 2 and max(per_org) <= 5
        months = set(history_months(clock.now().date()))
        usage = session.scalars(select(ServiceUsage)).all()
        assert len(usage) > 300 * 5
        for used in usage:
            subscribed = since.get((used.organization_id, used.service_id))
            assert subscribed is not None, "usage of a service the organization never had"
            assert used.month in months and used.month >= subscribed.replace(day=1)
            assert used.uses >= 1

        others = [t for t in Base.metadata.sorted_tables if t.name not in SEEDED_TABLES]
        for other in others:
            assert session.scalar(select(func.count()).select_from(other)) == 0, other.name


def test_only_the_demo_organizations_know_their_password(engine: Engine, clock: FixedClock) -> None:
    summary = seed_population(engine, orgs=30, seed=3, clock=clock, known_password_count=3)
    assert summary.demo_password == DEMO_PASSWORD
    with Session(engine) as session:
        orgs = session.scalars(select(Organization).order_by(Organization.id)).all()
    assert tuple(o.legacy_login_id for o in orgs[:3]) == summary.demo_login_ids
    for org in orgs[:3]:
        assert verify_password(org.password_hash, DEMO_PASSWORD)
        assert not needs_rehash(org.password_hash)
    unknown = {o.password_hash for o in orgs[3:]}
    assert len(unknown) >= 2  # a pool of hashes, not one shared secret
    assert not any(verify_password(h, DEMO_PASSWORD) for h in unknown)
    assert all(h.startswith("$argon2id$") for h in unknown)


def _dump(engine: Engine) -> list[tuple[object, ...]]:
    """Every seeded row, with service codes for service ids and without password hashes."""
    with Session(engine) as session:
        codes = {id_: code for id_, code in session.execute(select(Service.id, Service.code))}
        rows: list[tuple[object, ...]] = []
        for org in session.scalars(select(Organization).order_by(Organization.id)):
            rows.append((org.id, org.legacy_login_id, org.name, org.name_local, org.country,
                         org.locale, org.account_manager, org.phone, org.created_at))  # fmt: skip
        for model in (OrganizationDomain, OrganizationContact):
            for item in session.scalars(select(model).order_by(model.id)):
                rows.append(tuple(getattr(item, c.key) for c in model.__table__.columns))
        for sub in session.scalars(select(ServiceSubscription).order_by(ServiceSubscription.id)):
            rows.append((sub.id, sub.organization_id, codes[sub.service_id], sub.since))
        for use in session.scalars(select(ServiceUsage).order_by(ServiceUsage.id)):
            rows.append((use.id, use.organization_id, codes[use.service_id], use.month, use.uses))
    return rows


def _empty(engine: Engine) -> None:
    with engine.begin() as connection:
        for model in (ServiceUsage, ServiceSubscription, OrganizationContact, OrganizationDomain):
            connection.execute(delete(model))
        connection.execute(delete(Organization))
        connection.execute(delete(Service))


def test_same_seed_reproduces_the_database(engine: Engine, clock: FixedClock) -> None:
    seed_population(engine, orgs=40, seed=5, clock=clock)
    first = _dump(engine)
    _empty(engine)
    seed_population(engine, orgs=40, seed=5, clock=clock)
    assert _dump(engine) == first
    _empty(engine)
    seed_population(engine, orgs=40, seed=6, clock=clock)
    assert _dump(engine)[:40] != first[:40]


def test_seeding_again_adds_organizations_and_keeps_ids_usable(
    engine: Engine, clock: FixedClock
) -> None:
    first = seed_population(engine, orgs=40, seed=9, clock=clock)
    second = seed_population(engine, orgs=30, seed=9, clock=clock)
    assert second.first_organization_id == 41
    assert second.rows["services"] == 0 and second.services_added == 0
    with Session(engine) as session:
        assert _count(session, Organization) == 70
        assert _count(session, Service) == len(SERVICES)
        logins = session.scalars(select(Organization.legacy_login_id)).all()
        assert len(set(logins)) == 70
        names = session.scalars(select(Organization.name).order_by(Organization.id)).all()
        assert names[40:70] != names[:30]
        assert set(second.demo_login_ids).isdisjoint(first.demo_login_ids)

    # Ordinary inserts after the seed must not collide with the ids it assigned (PostgreSQL
    # sequences are moved past them).
    with Session(engine) as session, session.begin():
        org = Organization(
            legacy_login_id="HANDMADE1",
            name="Hand Made Shipping Co., Ltd.",
            country="JP",
            password_hash="x",
            created_at=clock.now(),
        )
        session.add(org)
        session.flush()
        assert org.id == 71
        service_id = session.scalars(select(Service.id)).first()
        assert service_id is not None
        session.add_all(
            [
                OrganizationDomain(organization_id=org.id, domain="handmade.example"),
                OrganizationContact(
                    organization_id=org.id, kind="primary", email="info@handmade.example"
                ),
                ServiceSubscription(
                    organization_id=org.id, service_id=service_id, since=dt.date(2025, 1, 1)
                ),
                ServiceUsage(
                    organization_id=org.id, service_id=service_id, month=dt.date(2025, 5, 1), uses=1
                ),
            ]
        )
        session.flush()


@pytest.mark.parametrize(
    ("orgs", "known", "message"),
    [
        (0, 0, "at least 1"),
        (-5, 0, "at least 1"),
        (1_000_001, 5, "at most 1,000,000"),
        (3, 5, "between 0 and 3"),
        (300, 101, "between 0 and 100"),
        (10, -1, "between 0 and 10"),
    ],
)
def test_absurd_arguments_are_refused(
    engine: Engine, clock: FixedClock, orgs: int, known: int, message: str
) -> None:
    with pytest.raises(SeedError, match=message):
        seed_population(engine, orgs=orgs, seed=1, clock=clock, known_password_count=known)


# --- the command line ---


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.db"
    monkeypatch.setenv("SWITCHOVER_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("SWITCHOVER_CLOCK_AT", "2025-07-01T09:00:00")
    monkeypatch.chdir(tmp_path)  # no stray .env
    return path


def test_cli_seeds_a_migrated_database(cli_database: Path) -> None:
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(cli, ["seed", "--orgs", "40", "--seed", "3", "--known-passwords", "2"])
    assert result.exit_code == 0, result.output
    output = result.stdout
    assert "Seeded 40 organizations (seed 3)" in output
    for table in SEEDED_TABLES:
        assert re.search(rf"^\s+{table}\s+[\d,]+", output, re.MULTILINE), table
    assert re.search(r"total\s+[\d,]+ rows in [\d.]+ s \([\d,]+ rows/s\)", output)
    assert DEMO_PASSWORD in output

    from db.engine import make_engine

    engine = make_engine(f"sqlite:///{cli_database}")
    try:
        with Session(engine) as session:
            logins = session.scalars(select(Organization.legacy_login_id).order_by(Organization.id))
            demo = list(logins)[:2]
            assert _count(session, Organization) == 40
    finally:
        engine.dispose()
    assert all(login in output for login in demo)

    again = runner.invoke(cli, ["seed", "--orgs", "5", "--known-passwords", "0"])
    assert again.exit_code == 0, again.output
    assert "after the existing ones (ids from 41)" in again.stdout
    assert "No demo logins" in again.stdout


def test_cli_refuses_a_database_without_the_schema(cli_database: Path) -> None:
    result = runner.invoke(cli, ["seed", "--orgs", "10"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: the database has no Switchover schema yet; run `switchover db upgrade`"
    ]
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "arguments",
    [["--orgs", "0"], ["--orgs", "50000000"], ["--orgs", "10", "--known-passwords", "11"]],
)
def test_cli_refuses_absurd_numbers_in_one_line(cli_database: Path, arguments: list[str]) -> None:
    result = runner.invoke(cli, ["seed", *arguments])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --")
