from __future__ import annotations

import pytest
from sqlalchemy import Engine

from db import schema
from db.engine import make_engine


def test_migrated_database_is_current(engine: Engine) -> None:
    schema.require_current(engine)


def test_empty_database_is_refused_with_the_fix(tmp_path: pytest.TempPathFactory) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/empty.db")
    with pytest.raises(schema.SchemaError, match="switchover db upgrade"):
        schema.require_current(engine)
    engine.dispose()
