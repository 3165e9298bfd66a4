"""PostgreSQL's timestamps parsed by psycopg's C loader, the type Django installs in Python.

Django's PostgreSQL backend registers its own loader for `timestamptz`
(`django.db.backends.postgresql.psycopg_any.BaseTzLoader`): psycopg's pure-Python
`TimestamptzLoader`, with the connection's time zone put on each value. Psycopg's C build
(`psycopg[binary]`, which requirements.txt pins) has the same parser in C, but Django's subclass
steps around it, so every timestamp a query reads goes through a regular expression in Python:
about 6 µs each, 300 of them for a page of 50 appointments with their copies.

On each new connection `use_c_loaders` registers a subclass of Django's loader whose instances
hand each value to psycopg's C parser when that parser gives the value the same time zone Django
would (it does when the session's TimeZone is the zone Django asked for, UTC here): same values,
same `tzinfo` object, parsed in C. Otherwise the instance keeps Django's own `load`. The class
keeps Django's `timezone` attribute, which the backend's `create_cursor` compares on every cursor.

The text loader Django registers for `jsonb`, `inet` and `cidr` (psycopg's Python `TextLoader`,
so that Django decodes JSON itself) is swapped for psycopg's C `TextLoader` the same way: the
same string, decoded in C.
"""

from __future__ import annotations

from datetime import tzinfo
from functools import cache
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

# A timestamp whose parsed zone shows which zone the C parser puts on every value.
_PROBE = b"2000-01-01 00:00:00+00"
_TEXT_TYPES = ("jsonb", "inet", "cidr")


def use_c_loaders(sender: object, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """`connection_created` receiver: the connection's timestamps and texts parsed in C."""
    if connection.vendor != "postgresql":
        return
    import psycopg
    from psycopg.pq import Format

    c_timestamp = psycopg.adapters.get_loader(
        psycopg.adapters.types["timestamptz"].oid, Format.TEXT
    )
    c_text = psycopg.adapters.get_loader(psycopg.adapters.types["text"].oid, Format.TEXT)
    if c_timestamp is None or c_text is None or not _in_c(c_timestamp) or not _in_c(c_text):
        return  # psycopg without its C build: Django's loaders are the same Python code
    adapters = connection.connection.adapters
    adapters.register_loader("timestamptz", _timestamp_loader(connection.timezone, c_timestamp))
    for name in _TEXT_TYPES:
        adapters.register_loader(name, c_text)


def _in_c(loader: type) -> bool:
    return loader.__module__.startswith("psycopg_")  # psycopg_binary or psycopg_c


@cache
def _timestamp_loader(zone: tzinfo | None, c_loader: type) -> type:
    from django.db.backends.postgresql.psycopg_any import (  # type: ignore[import-untyped]
        BaseTzLoader,
    )

    class CTimestampLoader(BaseTzLoader):
        timezone = zone

        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            parser = c_loader(oid, context)
            if parser.load(_PROBE).tzinfo is self.timezone:
                self.load = parser.load

    return CTimestampLoader
