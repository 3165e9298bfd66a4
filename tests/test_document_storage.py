"""Timesheet documents live in Django's `default` storage: with DOCUMENT_STORAGE=s3, an
S3-compatible bucket (here moto's server, started by the test), so a document one machine made is
downloaded from another; a file gone from the store is made again, or, when it will not be
(a void timesheet), answered 410 Gone; a store that cannot be read answers 503, never 500."""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from accounts.models import User
from tests.api_helpers import api_client
from tests.cluster_helpers import run_python
from tests.factories import AppointmentFactory
from tests.fakes.microsoft import FakeMicrosoft
from timesheets.models import Timesheet
from timesheets.services import timesheet_generate, timesheet_void

# It starts moto's server and a second Python process.
pytestmark = pytest.mark.slow

BUCKET = "timesheets-test"
MAY = (date(2025, 5, 1), date(2025, 5, 31))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3-compatible server, in a process of its own, with an empty bucket."""
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - our interpreter, moto's server
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            assert time.monotonic() < deadline, "moto's server did not start"
            time.sleep(0.1)
        bucket(endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


def bucket(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def s3_environment(endpoint: str) -> dict[str, str]:
    return {
        "DOCUMENT_STORAGE": "s3",
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": endpoint,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": "testing",
        "S3_SECRET_ACCESS_KEY": "testing",
        "S3_PREFIX": "documents",
    }


@pytest.fixture
def s3_storage(settings: Settings, s3_endpoint: str, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "location": "documents",
                "file_overwrite": False,
                "default_acl": None,
            },
        },
    }


def stored_keys(endpoint: str) -> list[str]:
    listing = bucket(endpoint).list_objects_v2(Bucket=BUCKET, Prefix="documents/")
    return sorted(item["Key"] for item in listing.get("Contents", []))


def a_timesheet(user: User) -> Timesheet:
    start = datetime(2025, 5, 8, 8, tzinfo=UTC)
    AppointmentFactory(
        user=user,
        subject="Acme review",
        customer="Acme",
        billing_type="billable",
        categories=["Acme - billable"],
        start_time=start,
        end_time=start + timedelta(minutes=90),
    )
    return timesheet_generate(user=user, customer="Acme", start=MAY[0], end=MAY[1]).timesheet


@pytest.mark.django_db(databases=["default", "web"])
def test_issuing_stores_the_documents_in_the_bucket_and_not_on_the_disk(
    s3_storage: None, s3_endpoint: str, alice: User, tmp_path: Path
) -> None:
    timesheet = a_timesheet(alice)

    names = (timesheet.pdf_path, timesheet.csv_path, timesheet.excel_path)
    assert stored_keys(s3_endpoint) == sorted(f"documents/{name}" for name in names)
    assert not (tmp_path / "media").exists()


@pytest.mark.django_db(databases=["default", "web"])
def test_a_live_timesheets_file_gone_from_the_bucket_is_made_again(
    s3_storage: None, s3_endpoint: str, alice: User
) -> None:
    timesheet = a_timesheet(alice)
    bucket(s3_endpoint).delete_object(Bucket=BUCKET, Key=f"documents/{timesheet.csv_path}")

    answer = api_client(alice).get(f"/api/v1/timesheets/{timesheet.pk}/csv/")

    assert answer.status_code == 200
    assert b"Acme review" in answer.content
    timesheet.refresh_from_db()
    assert f"documents/{timesheet.csv_path}" in stored_keys(s3_endpoint)


@pytest.mark.django_db(databases=["default", "web"])
def test_a_void_timesheets_file_gone_from_the_bucket_answers_410(
    s3_storage: None, s3_endpoint: str, alice: User
) -> None:
    timesheet = a_timesheet(alice)
    timesheet_void(timesheet=timesheet, user=alice)
    bucket(s3_endpoint).delete_object(Bucket=BUCKET, Key=f"documents/{timesheet.pdf_path}")

    answer = api_client(alice).get(f"/api/v1/timesheets/{timesheet.pk}/pdf/")

    assert answer.status_code == 410
    assert answer.json()["detail"] == (
        f"Timesheet {timesheet.pk} is void and its PDF file is no longer stored."
    )


@pytest.mark.django_db(databases=["default", "web"])
def test_a_document_store_that_cannot_be_reached_answers_503(
    s3_storage: None, alice: User, settings: Settings
) -> None:
    timesheet = a_timesheet(alice)
    closed = f"http://127.0.0.1:{free_port()}"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            **settings.STORAGES["default"],
            "OPTIONS": {
                **settings.STORAGES["default"]["OPTIONS"],
                "endpoint_url": closed,
                "client_config": Config(retries={"max_attempts": 1}, connect_timeout=1),
            },
        },
    }

    answer = api_client(alice).get(f"/api/v1/timesheets/{timesheet.pk}/pdf/")

    assert answer.status_code == 503
    assert answer.json()["detail"].startswith("The document store cannot be read (")


MAKE = """
import json, sys
from datetime import UTC, date, datetime, timedelta
import django
django.setup()
from accounts.models import User
from calendars.models import Appointment
from timesheets.services import timesheet_generate

user = User.objects.create_user("alice@example.com", "x-long-password-1", name="Alice Archer")
start = datetime(2025, 5, 8, 8, tzinfo=UTC)
Appointment.objects.create(
    user=user, subject="Acme review", customer="Acme", billing_type="billable",
    categories=["Acme - billable"], start_time=start, end_time=start + timedelta(minutes=90),
)
timesheet = timesheet_generate(
    user=user, customer="Acme", start=date(2025, 5, 1), end=date(2025, 5, 31)
).timesheet
print(json.dumps({"id": timesheet.pk, "pdf": timesheet.pdf_path}))
"""

DOWNLOAD = """
import hashlib, json, sys
import django
django.setup()
from django.test import Client
from accounts.models import User

client = Client(HTTP_HOST="localhost")
client.force_login(User.objects.get(email="alice@example.com"))
answer = client.get(f"/api/v1/timesheets/{sys.argv[1]}/pdf/")
print(json.dumps({
    "status": answer.status_code,
    "sha256": hashlib.sha256(answer.content).hexdigest(),
    "starts": answer.content[:5].decode("latin-1"),
}))
"""


def test_a_timesheet_made_by_a_worker_on_one_machine_downloads_from_a_web_server_on_another(
    cluster_env: dict[str, str],
    s3_endpoint: str,
    tmp_path: Path,
    fake_microsoft: FakeMicrosoft,
) -> None:
    shared = {**cluster_env, **s3_environment(s3_endpoint)}
    worker = {**shared, "MEDIA_ROOT": str(tmp_path / "worker-disk")}
    web = {**shared, "MEDIA_ROOT": str(tmp_path / "web-disk")}

    made = json.loads(run_python(MAKE, worker))
    fetched = json.loads(run_python(DOWNLOAD, web, str(made["id"])))

    stored = bucket(s3_endpoint).get_object(Bucket=BUCKET, Key=f"documents/{made['pdf']}")
    assert fetched["status"] == 200
    assert fetched["starts"] == "%PDF-"
    assert fetched["sha256"] == hashlib.sha256(stored["Body"].read()).hexdigest()
    assert not (tmp_path / "worker-disk").exists()
    assert not (tmp_path / "web-disk").exists()


@pytest.mark.django_db(databases=["default", "web"])
def test_readiness_asks_the_object_store_when_documents_live_there(
    s3_storage: None, admin_client: Client, settings: Settings
) -> None:
    settings.DOCUMENT_STORAGE = "s3"

    reachable = admin_client.get(reverse("health-ready")).json()["checks"]["mediadisk"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            **settings.STORAGES["default"],
            "OPTIONS": {
                **settings.STORAGES["default"]["OPTIONS"],
                "endpoint_url": f"http://127.0.0.1:{free_port()}",
                "client_config": Config(retries={"max_attempts": 1}, connect_timeout=1),
            },
        },
    }
    unreachable = admin_client.get(reverse("health-ready"))

    assert reachable["status"] == "ok"
    assert unreachable.status_code == 503
    check = unreachable.json()["checks"]["mediadisk"]
    assert check["message"].endswith(
        "The document store cannot be reached (EndpointConnectionError)."
    )
    assert "127.0.0.1" not in json.dumps(unreachable.json())
