"""Health endpoints for load balancers, process managers and orchestrators.

`health/live/` answers as long as the process serves requests; `health/ready/` checks what a
web server needs (both databases, the cache, the broker, free disk for MEDIA_ROOT) and reports
the cluster's heartbeat beside them without depending on it (a web server with its workers down
still serves pages; the cluster's own probe is for restarting it); `health/cluster/` checks
that a django-q2 cluster has reported recently. Anyone gets the bare
status (200 or 503); staff also get each check's result. Nothing names a host, URL or secret.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET
from health_check.base import HealthCheck
from health_check.checks import Cache, Database
from health_check.exceptions import ServiceUnavailable, ServiceWarning


@dataclasses.dataclass
class Broker(HealthCheck):
    """django-q2's broker answers (Redis when REDIS_URL is set, else the web database)."""

    def run(self) -> None:
        from django_q.brokers import get_broker

        try:
            if not get_broker().ping():
                raise ServiceUnavailable("The queue broker did not answer.")
        except ServiceUnavailable:
            raise
        except Exception as error:
            raise ServiceUnavailable("The queue broker cannot be reached.") from error


@dataclasses.dataclass
class MediaDisk(HealthCheck):
    """Free disk where timesheet files are written (MEDIA_ROOT)."""

    def run(self) -> None:
        if getattr(settings, "DOCUMENT_STORAGE", "local") != "local":
            self._object_store()
            return
        minimum = settings.HEALTH_MEDIA_MIN_FREE_MB * 1024 * 1024
        try:
            free = shutil.disk_usage(settings.MEDIA_ROOT).free
        except OSError as error:
            raise ServiceUnavailable("MEDIA_ROOT cannot be read.") from error
        if free < minimum:
            raise ServiceUnavailable(
                f"{free // (1024 * 1024)} MB free for media, below the "
                f"{settings.HEALTH_MEDIA_MIN_FREE_MB} MB minimum."
            )

    def _object_store(self) -> None:
        """With documents in an object store, the store answers (one HEAD request)."""
        from django.core.files.storage import default_storage

        try:
            default_storage.exists("health/probe")
        except Exception as error:  # any failure to reach it: the message never names the host
            raise ServiceUnavailable(
                f"The document store cannot be reached ({type(error).__name__})."
            ) from error


@dataclasses.dataclass
class ClusterHeartbeat(HealthCheck):
    """A django-q2 cluster reported within its last guard cycles: its sentinel saves a status
    every guard cycle (kept a few seconds), and the scheduler runs from that same loop."""

    def run(self) -> None:
        from django_q.status import Stat

        try:
            clusters = Stat.get_all()
        except Exception as error:
            raise ServiceUnavailable("Cluster status cannot be read.") from error
        if not clusters:
            raise ServiceUnavailable("No django-q2 cluster has reported recently.")
        from django_q.conf import Conf

        if not any(cluster.status in (Conf.IDLE, Conf.WORKING) for cluster in clusters):
            raise ServiceWarning("No cluster is idle or working.")


LIVENESS: tuple[HealthCheck, ...] = ()


def readiness_checks() -> tuple[HealthCheck, ...]:
    return (
        Database(alias="default"),
        Database(alias="web"),
        Cache(alias="default"),
        Broker(),
        MediaDisk(),
    )


def cluster_checks() -> tuple[HealthCheck, ...]:
    return (ClusterHeartbeat(),)


async def _answer(
    request: HttpRequest,
    checks: tuple[HealthCheck, ...],
    reported: tuple[HealthCheck, ...] = (),
) -> JsonResponse:
    """The status from `checks`; `reported` ones are shown to staff but never change it."""
    results = await asyncio.gather(*(check.get_result() for check in (*checks, *reported)))
    healthy = all(result.error is None for result in results[: len(checks)])
    body: dict[str, Any] = {"status": "ok" if healthy else "unavailable"}
    user = await sync_to_async(lambda: request.user)()
    if getattr(user, "is_active", False) and getattr(user, "is_staff", False):
        body["checks"] = {
            _name(result.check): {
                "status": "ok" if result.error is None else "unavailable",
                "message": None if result.error is None else str(result.error),
                "seconds": round(result.time_taken, 3),
            }
            for result in results
        }
    response = JsonResponse(body, status=200 if healthy else 503)
    add_never_cache_headers(response)
    return response


def _name(check: HealthCheck) -> str:
    alias = getattr(check, "alias", None)
    return f"{type(check).__name__.lower()}:{alias}" if alias else type(check).__name__.lower()


@require_GET
async def health_live(request: HttpRequest) -> JsonResponse:
    return await _answer(request, LIVENESS)


@require_GET
async def health_ready(request: HttpRequest) -> JsonResponse:
    return await _answer(request, readiness_checks(), reported=cluster_checks())


@require_GET
async def health_cluster(request: HttpRequest) -> JsonResponse:
    return await _answer(request, cluster_checks())
