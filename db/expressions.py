"""SQL expressions the two databases we run on want written differently.

`one_of(column, values)` is ``column IN (…)``; on PostgreSQL it is ``column = ANY(:array)``, one
array parameter. psycopg rewrites a statement's placeholders in Python and caches that work only
for statements of at most 50 parameters: an IN list of 5,000 ids is parsed anew on every
execution, ~35 ms each, which was a tenth of the login migration's time on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.compiler import SQLCompiler


class one_of(ColumnElement[bool]):
    """``column IN values`` (an empty `values` matches nothing, as ``IN ()`` does)."""

    # Not cached: the values are part of the element, and such statements run once per batch.
    inherit_cache = False

    def __init__(
        self, column: ColumnElement[Any] | QueryableAttribute[Any], values: Iterable[Any]
    ) -> None:
        self.column = column.expression if isinstance(column, QueryableAttribute) else column
        self.values = list(values)


@compiles(one_of)
def _in_list(element: one_of, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.in_(element.values), **kw)


@compiles(one_of, "postgresql")
def _any_array(element: one_of, compiler: SQLCompiler, **kw: Any) -> str:
    array = bindparam(None, element.values, type_=ARRAY(element.column.type), unique=True)
    return compiler.process(element.column == any_(array), **kw)
