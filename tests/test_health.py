"""Health endpoints: bare status for anyone, each check's result for staff, no secrets."""

from __future__ import annotations

import json
from collections import namedtuple

import pytest
from django.test import Client
from django.urls import reverse
from django_q.conf import Conf

from accounts.models import User

pytestmark = pytest.mark.django_db(databases=["default", "web"])


def test_liveness_answers_ok_without_signing_in(client: Client) -> None:
    response = client.get(reverse("health-live"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_gives_anyone_the_bare_status_only(client: Client, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path

    response = client.get(reverse("health-ready"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readiness_shows_staff_every_check(
    admin_client: Client, admin_user: User, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path

    body = admin_client.get(reverse("health-ready")).json()

    assert body["status"] == "ok"
    assert set(body["checks"]) == {
        "database:default",
        "database:web",
        "cache:default",
        "broker",
        "mediadisk",
        "clusterheartbeat",
    }
    assert all(
        check["status"] == "ok"
        for name, check in body["checks"].items()
        if name != "clusterheartbeat"
    )


def test_too_little_free_disk_makes_the_server_unready(
    admin_client: Client, settings, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.MEDIA_ROOT = tmp_path
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr("shutil.disk_usage", lambda path: usage(10**9, 10**9 - 2**20, 2**20))

    response = admin_client.get(reverse("health-ready"))

    assert response.status_code == 503
    assert response.json()["checks"]["mediadisk"]["status"] == "unavailable"
    assert "below the 100 MB minimum" in response.json()["checks"]["mediadisk"]["message"]


def test_an_unreachable_redis_broker_is_reported_without_its_url(
    admin_client: Client, settings, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.MEDIA_ROOT = tmp_path
    # django-q2 reads its settings once, into Conf.
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", "redis://:hunter2@127.0.0.1:1/7")

    response = admin_client.get(reverse("health-ready"))

    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["status"] == "unavailable"
    assert "hunter2" not in json.dumps(response.json())
    assert "127.0.0.1" not in json.dumps(response.json())


def test_no_cluster_reporting_makes_the_cluster_check_fail(client: Client) -> None:
    response = client.get(reverse("health-cluster"))

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


def test_readiness_reports_the_cluster_heartbeat_without_failing_on_it(
    admin_client: Client, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path

    response = admin_client.get(reverse("health-ready"))

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    heartbeat = response.json()["checks"]["clusterheartbeat"]
    assert heartbeat["status"] == "unavailable"
    assert "cluster" in heartbeat["message"].lower()
