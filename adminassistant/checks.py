"""System checks for the project's own set-up (run by `manage.py check`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.db import DatabaseError, connections, router


def database_cache_tables() -> list[tuple[str, str]]:
    """(database alias, table) of every cache that keeps its entries in a database table."""
    from django.core.cache import caches
    from django.core.cache.backends.db import BaseDatabaseCache

    tables = []
    for name in settings.CACHES:
        cache = caches[name]
        if isinstance(cache, BaseDatabaseCache):
            alias = router.db_for_write(cache.cache_model_class) or "default"
            tables.append((alias, cache._table))
    return tables


@register()
def cache_table_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A database cache whose table is missing answers 500 on the first API request."""
    problems: list[CheckMessage] = []
    migrating = set(kwargs.get("databases") or ())
    for alias, table in database_cache_tables():
        if alias in migrating:
            continue  # `migrate --database <alias>` is about to create it
        try:
            with connections[alias].cursor() as cursor:
                tables = connections[alias].introspection.table_names(cursor)
        except DatabaseError:
            continue  # the database itself is unreachable: Django's own checks say so
        if "django_migrations" in tables and table not in tables:
            problems.append(
                Error(
                    f"The cache table “{table}” does not exist in the {alias} database.",
                    hint=f"Run: python manage.py migrate --database {alias} "
                    f"(or python manage.py createcachetable --database {alias}).",
                    id="adminassistant.E001",
                )
            )
    return problems


def create_cache_tables(using: str, **kwargs: Any) -> None:
    """After `migrate` on a database, create the cache tables that live there (idempotent)."""
    from django.core.management import call_command

    if any(alias == using for alias, _ in database_cache_tables()):
        call_command("createcachetable", database=using, verbosity=0)
