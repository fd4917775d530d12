from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.expressions import one_of
from db.models import Organization
from domain.clock import FixedClock
from tests.factories import organization


def test_one_of_matches_like_in_on_the_database_under_test(
    session: Session, clock: FixedClock
) -> None:
    ids = [organization(session, clock).id for _ in range(4)]
    session.flush()

    def found(values: list[int]) -> list[int]:
        return list(
            session.scalars(
                select(Organization.id).where(one_of(Organization.id, values)).order_by("id")
            )
        )

    assert found([ids[2], ids[0], 999_999]) == [ids[0], ids[2]]
    assert found([]) == []
    assert found(ids * 2) == ids


def test_one_of_is_one_array_parameter_on_postgresql_and_an_in_list_elsewhere() -> None:
    query = select(Organization.id).where(one_of(Organization.legacy_login_id, ["A", "B", "C"]))
    pg = query.compile(dialect=postgresql.psycopg.dialect())  # type: ignore[no-untyped-call]
    assert "= ANY (%(param_1)s::VARCHAR" in str(pg)
    assert pg.params == {"param_1": ["A", "B", "C"]}
    lite = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True}))
    assert "IN (?, ?, ?)" in lite
