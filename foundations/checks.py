"""System checks for the project's own set-up (run by `manage.py check`): the cache table,
Redis reachable, schedules of several clusters on a locking database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
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
            tables.append((alias, cache.cache_model_class._meta.db_table))
    return tables


@register()
def cache_table_check(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
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


def _redis_urls() -> list[tuple[str, str]]:
    """(setting, url) for every Redis the settings name: django-q2's broker and the caches."""
    urls = []
    broker = settings.Q_CLUSTER.get("redis")
    if isinstance(broker, str):
        urls.append(("REDIS_URL", broker))
    for alias, cache in settings.CACHES.items():
        if "redis" in cache.get("BACKEND", "").lower():
            locations = cache.get("LOCATION", "")
            for location in [locations] if isinstance(locations, str) else locations:
                urls.append((f"CACHE_URL (cache {alias!r})", location))
    return urls


def _redacted(url: str) -> str:
    """The URL without its password, fit for a check message."""
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    scheme, _, _credentials = head.partition("://")
    return f"{scheme}://***@{tail}"


@register("caches")
def redis_reachable_check(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[Error]:
    """Redis named in the settings must be installed and answer, or the cluster dies at start."""
    urls = _redis_urls()
    if not urls:
        return []
    try:
        import redis
    except ImportError:
        return [
            Error(
                "REDIS_URL or CACHE_URL names Redis but the 'redis' package is not installed.",
                hint="Install the pinned requirements: pip install -r requirements.txt.",
                id="adminassistant.E002",
            )
        ]
    errors = []
    for setting, url in urls:
        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
            try:
                client.ping()
            finally:
                client.close()
        except (redis.RedisError, OSError, ValueError) as error:
            errors.append(
                Error(
                    f"{setting} names Redis at {_redacted(url)} but it cannot be reached: {error}",
                    hint="Start Redis or correct the URL; workers and the cache need it.",
                    id="adminassistant.E003",
                )
            )
    return errors


@register("database")
def clusters_on_sqlite_check(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[Warning]:
    """Several clusters (a Redis broker) sharing schedules on SQLite could fire a schedule twice."""
    if not settings.Q_CLUSTER.get("redis"):
        return []
    from django_q.models import Schedule

    alias = router.db_for_write(Schedule)
    if connections[alias].vendor != "sqlite":
        return []
    return [
        Warning(
            f"REDIS_URL is set for several clusters but their schedules live on SQLite "
            f"(database {alias!r}), where select_for_update does nothing: a due schedule could "
            f"fire in two clusters.",
            hint="Set WEB_DATABASE_URL (and DATABASE_URL) to a shared PostgreSQL database.",
            id="adminassistant.W001",
        )
    ]
