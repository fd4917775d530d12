"""The behaviour model and the simulated people: validated, reproducible, plausible."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from db.enums import Locale, Role
from domain.simulation.model import Behaviour, ModelError, load_behaviour
from domain.simulation.people import (
    AddressFate,
    Clicks,
    click_delay,
    mistype,
    plan_organization,
)


def test_defaults_and_a_file_that_overrides_them(tmp_path: Path) -> None:
    assert load_behaviour(None) == Behaviour()
    path = tmp_path / "model.toml"
    path.write_text("dormant_share = 0.5\nregister_on_step = { announcement = 0.9 }\n")
    model = load_behaviour(path)
    assert model.dormant_share == 0.5
    assert model.register_chance("announcement") == 0.9
    assert model.register_chance("T-7") == model.register_on_other_step


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("dormant_share = 2\n", "dormant_share: Input should be less than or equal to 1"),
        ("click_prompt = 0.9\nclick_slow = 0.2\n", r"click_prompt \+ click_slow \+ click_late"),
        ("colour = 1\n", "colour: Extra inputs are not permitted"),
        ("agent_days = [3, 1]\n", "agent_days: the first number must not exceed the second"),
        ("dormant_share = \n", "cannot be read"),
    ],
)
def test_bad_files_name_the_field(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "model.toml"
    path.write_text(content)
    with pytest.raises(ModelError, match=message):
        load_behaviour(path)
    with pytest.raises(ModelError, match="not found"):
        load_behaviour(tmp_path / "missing.toml")


def test_the_same_seed_plans_the_same_people() -> None:
    model = Behaviour()
    first = plan_organization(7, 42, "NK000042", Locale.JA, "kaiun.example", model)
    again = plan_organization(7, 42, "NK000042", Locale.JA, "kaiun.example", model)
    other = plan_organization(8, 42, "NK000042", Locale.JA, "kaiun.example", model)
    assert [(p.name, p.email, p.role, p.fate, p.clicks) for p in first.people] == [
        (p.name, p.email, p.role, p.fate, p.clicks) for p in again.people
    ]
    assert (first.dormant, first.scanner) == (again.dormant, again.scanner)
    assert [p.email for p in other.people] != [p.email for p in first.people] or (
        other.dormant != first.dormant
    )


def test_a_population_looks_like_the_model() -> None:
    model = Behaviour()
    plans = [
        plan_organization(1, n, f"NK{n:06d}", Locale.EN, f"org{n}.example", model)
        for n in range(1, 3001)
    ]
    people = [p for plan in plans for p in plan.people]
    assert 0.05 < sum(plan.dormant for plan in plans) / len(plans) < 0.11
    assert 1.6 < len(people) / len(plans) < 2.0
    first_admins = sum(plan.people[0].role is Role.ADMINISTRATOR for plan in plans) / len(plans)
    assert 0.8 < first_admins < 0.9
    fates = {fate: sum(p.fate is fate for p in people) / len(people) for fate in AddressFate}
    assert 0.01 < fates[AddressFate.TYPO] < 0.025
    assert 0.01 < fates[AddressFate.DEAD] < 0.03
    prompt = sum(p.clicks is Clicks.PROMPT for p in people) / len(people)
    assert 0.55 < prompt < 0.65
    for person in people:
        if person.fate is AddressFate.TYPO:
            assert person.email != person.correct_email
            assert person.email.split("@")[0] == person.correct_email.split("@")[0]
        else:
            assert person.email == person.correct_email
    assert len({p.correct_email for plan in plans for p in plan.people}) == len(people)


def test_mistyping_changes_the_domain_a_little() -> None:
    rng = random.Random(3)
    for domain in ("oceanic-lines.example", "nyk.co.jp", "aa.example"):
        typed = mistype(domain, rng)
        assert typed != domain
        assert typed.split(".", 1)[1] == domain.split(".", 1)[1]
        assert abs(len(typed) - len(domain)) <= 1


def test_click_delays_by_profile() -> None:
    rng = random.Random(5)
    model = Behaviour()
    life = dt.timedelta(days=14)
    prompt = [click_delay(rng, Clicks.PROMPT, model, life) for _ in range(500)]
    assert all(d is not None and d < dt.timedelta(days=3) for d in prompt)
    late = [click_delay(rng, Clicks.LATE, model, life) for _ in range(100)]
    assert all(d is not None and d > life for d in late)
    assert click_delay(rng, Clicks.NEVER, model, life) is None
