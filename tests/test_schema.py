"""The schema the migrations build, and how the code checks it."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from db import schema
from db.engine import make_engine
from db.models import Base


def test_migrated_database_is_current(engine: Engine) -> None:
    schema.require_current(engine)


def test_the_migrations_build_what_the_models_declare(engine: Engine) -> None:
    """Tables, columns, indexes and constraints: a model changed without its migration (or a
    migration without its model) shows here, on each database."""
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_empty_database_is_refused_with_the_fix(tmp_path: pytest.TempPathFactory) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/empty.db")
    with pytest.raises(schema.SchemaError, match="switchover db upgrade"):
        schema.require_current(engine)
    engine.dispose()


def test_message_bodies_are_compressed_with_lz4_on_postgresql(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("column compression is PostgreSQL's")
    with engine.connect() as connection:
        if not connection.exec_driver_sql(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        ).scalar():
            pytest.skip("this PostgreSQL server was built without lz4")
        methods: dict[str, str] = dict(
            connection.exec_driver_sql(
                "SELECT attname, attcompression FROM pg_attribute "
                "WHERE attrelid = 'messages'::regclass AND attname IN ('body_text', 'body_html')"
            ).all()
        )
    assert methods == {"body_text": "l", "body_html": "l"}
