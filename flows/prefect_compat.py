"""Prefect 3.8's server on SQLAlchemy 2.1: schedules create their runs again.

SQLAlchemy 2.1 lets a hybrid property take part in bulk INSERTs, and insists on a "bulk_dml"
function for any hybrid key it finds in the rows (sqlalchemy/sqlalchemy#12496). Prefect 3.8's
scheduler inserts scheduled flow runs in bulk with a ``state`` key, which is such a hybrid on
its FlowRun model without that function, so every scheduler pass fails with "Can't evaluate bulk
DML statement" and no scheduled run is ever created: cron schedules silently never fire.

Under SQLAlchemy 2.0 the ORM ignored the key; Prefect inserts the state rows itself right after.
`patch` gives the hybrid a bulk_dml function that does exactly that — nothing — in the process
that runs Prefect's server (`switchover prefect-server`). It changes nothing when the hybrid
already has one (a fixed Prefect) or when SQLAlchemy has no such hook (2.0).
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any, cast

log = logging.getLogger(__name__)


def _leave_to_prefect(_cls: Any, _mapping: MutableMapping[str, Any], _value: Any) -> None:
    """The state row is written by Prefect after the run's row, as under SQLAlchemy 2.0."""


def patch() -> list[str]:
    """Fix the models that need it; returns their names (empty: nothing needed fixing)."""
    from prefect.server.database import orm_models
    from sqlalchemy.ext.hybrid import hybrid_property

    fixed = []
    for model in (orm_models.FlowRun, orm_models.TaskRun):
        hybrid = model.__dict__.get("state")
        if not isinstance(hybrid, hybrid_property) or not hasattr(hybrid, "bulk_dml_setter"):
            continue
        if hybrid.bulk_dml_setter is None:
            hybrid.bulk_dml_setter = cast(Any, _leave_to_prefect)
            fixed.append(model.__name__)
    if fixed:
        log.info("bulk inserts of %s now leave the state to Prefect", ", ".join(fixed))
    return fixed
