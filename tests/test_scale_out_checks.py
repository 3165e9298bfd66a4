"""manage.py check: Redis named but unreachable fails, several clusters on SQLite warn."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from django.db import connections
from django.test import override_settings

from foundations.checks import clusters_on_sqlite_check, redis_reachable_check
from tests.test_settings import manage

REDIS_TEST_URL = "redis://127.0.0.1:6379/7"


def closed_port() -> int:
    """A local port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_is_running() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.slow
def test_check_fails_with_the_reason_when_the_redis_broker_cannot_be_reached(
    tmp_path: Path,
) -> None:
    result = manage(tmp_path, "check", REDIS_URL=f"redis://127.0.0.1:{closed_port()}/7")

    assert result.returncode != 0
    assert "adminassistant.E003" in result.stderr
    assert "REDIS_URL names Redis" in result.stderr
    assert "cannot be reached" in result.stderr


def test_an_unreachable_redis_cache_is_an_error_that_hides_the_password() -> None:
    url = f"redis://:hunter2@127.0.0.1:{closed_port()}/7"
    backend = "django.core.cache.backends.redis.RedisCache"
    caches = {"default": {"BACKEND": backend, "LOCATION": url}}

    with override_settings(CACHES=caches):
        errors = redis_reachable_check()

    assert [error.id for error in errors] == ["adminassistant.E003"]
    assert "CACHE_URL" in errors[0].msg
    assert "hunter2" not in errors[0].msg


def test_no_redis_configured_needs_no_redis() -> None:
    assert redis_reachable_check() == []


def test_a_reachable_redis_passes_the_check(settings) -> None:
    if not redis_is_running():
        if os.environ.get("CI") == "true":
            pytest.fail("CI must provide Redis on 127.0.0.1:6379")
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "redis": REDIS_TEST_URL}

    assert redis_reachable_check() == []


def test_several_clusters_with_schedules_on_sqlite_are_warned_about(settings, monkeypatch) -> None:
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "redis": REDIS_TEST_URL}
    monkeypatch.setattr(connections["web"], "vendor", "sqlite")

    warnings = clusters_on_sqlite_check()

    assert [warning.id for warning in warnings] == ["adminassistant.W001"]
    assert "select_for_update" in warnings[0].msg


def test_one_cluster_on_the_database_broker_is_not_warned_about() -> None:
    assert clusters_on_sqlite_check() == []


def test_several_clusters_with_schedules_on_postgresql_are_not_warned_about(
    settings, monkeypatch
) -> None:
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "redis": REDIS_TEST_URL}
    monkeypatch.setattr(connections["web"], "vendor", "postgresql")

    assert clusters_on_sqlite_check() == []


def test_the_redis_cache_keeps_one_client_and_still_reads_and_writes() -> None:
    from foundations.cache import RedisCache

    if not redis_is_running():
        if os.environ.get("CI"):
            pytest.fail("CI must provide Redis on 127.0.0.1:6379")
        pytest.skip("no Redis on 127.0.0.1:6379")
    cache = RedisCache(REDIS_TEST_URL, {})
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client
    cache.set("fast-path-check", [1.5, 2.5], 30)
    assert cache.get("fast-path-check") == [1.5, 2.5]
    cache.delete("fast-path-check")
    assert cache.get("fast-path-check") is None


@pytest.mark.slow
def test_a_redis_cache_url_selects_the_client_keeping_backend(tmp_path: Path) -> None:
    result = manage(
        tmp_path,
        "shell",
        "-c",
        "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])",
        CACHE_URL=REDIS_TEST_URL,
    )
    assert result.stdout.strip().splitlines()[-1] == "foundations.cache.RedisCache"
