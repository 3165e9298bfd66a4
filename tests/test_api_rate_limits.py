"""The API throttles each scope at its own rate: over it, a request answers 429."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings

from accounts.models import User
from archiving.models import ArchiveConfiguration
from tests.api_helpers import api, api_client
from tests.factories import ArchiveConfigurationFactory
from tests.unchanged import unchanged

pytestmark = pytest.mark.django_db(databases=["default", "web"])


def test_a_scope_over_its_rate_answers_429(alice: User, settings: Settings) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "2/minute", "archive-run": None},
    }
    client = api_client(alice)

    statuses = [client.get(api("location-list")).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_archive_runs_have_their_own_rate(alice: User, settings: Settings) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": None, "archive-run": "1/hour"},
    }
    configuration: ArchiveConfiguration = ArchiveConfigurationFactory(user=alice)
    client = api_client(alice)
    url = api("archive-configuration-run", configuration.pk)

    first = client.post(url, {}, format="json")
    with unchanged():
        second = client.post(url, {}, format="json")
    listing = client.get(api("archive-configuration-list"))

    assert (first.status_code, second.status_code, listing.status_code) == (202, 429, 200)
    assert "Retry-After" in second


@pytest.fixture
def redis_cache(settings: Settings) -> None:
    """The cache on Redis (as in production, `CACHE_URL=redis://…`), under a prefix of this
    test's own: the API throttle then decides in Redis, atomically."""
    import socket
    import uuid

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.fail("this test needs Redis on 127.0.0.1:6379 (README: Redis)")
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "foundations.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/14",
            "KEY_PREFIX": uuid.uuid4().hex,
        },
    }


def test_on_redis_a_scope_over_its_rate_answers_429_with_when_to_retry(
    alice: User, settings: Settings, redis_cache: None
) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "3/minute", "archive-run": None},
    }
    client = api_client(alice)

    answers = [client.get(api("location-list")) for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    # The oldest of the three expires a minute after it was let through.
    assert 55 <= int(answers[-1]["Retry-After"]) <= 60
    assert "Request was throttled" in answers[-1].json()["detail"]


def test_on_redis_concurrent_requests_never_pass_the_limit(
    alice: User, settings: Settings, redis_cache: None
) -> None:
    """Twenty requests at once, from as many threads (as from several workers): exactly the
    limit passes. DRF's read-then-write let more through, each writing back a log without the
    others'."""
    import threading

    from django.test import RequestFactory

    from foundations.api.throttling import ScopedThrottle

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "5/minute"},
    }
    view = type("View", (), {"throttle_scope": "api"})()
    start = threading.Barrier(20)
    passed: list[bool] = []

    def one() -> None:
        request = RequestFactory().get("/api/v1/locations/")
        request.user = alice
        start.wait()
        passed.append(ScopedThrottle().allow_request(request, view))  # type: ignore[arg-type]

    threads = [threading.Thread(target=one) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert passed.count(True) == 5 and len(passed) == 20
