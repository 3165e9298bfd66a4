"""Operations beyond CRUD through the API, end to end: archive runs against the fake Graph,
timesheets issued, downloaded, voided and uploaded, locked appointments, the action log,
category sync, throttling."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from accounts.models import User
from archiving.models import ArchiveConfiguration
from auditing.models import ActionLog, AuditLog
from calendars.models import Appointment, Category
from tests.api_helpers import api, api_client, without_throttling
from tests.archive_helpers import add_event, archive_copies
from tests.factories import AppointmentFactory, ArchiveConfigurationFactory
from tests.fakes.microsoft import FakeMicrosoft
from tests.unchanged import FAILURE_RECORDS, unchanged
from timesheets.models import Timesheet

pytestmark = pytest.mark.django_db(databases=["default", "web"])

MAY = {"customer": "Acme", "start": "2025-05-01", "end": "2025-05-31"}


@pytest.fixture(autouse=True)
def unthrottled(settings: Settings) -> None:
    without_throttling(settings)


@pytest.fixture(autouse=True)
def media_in_tmp(settings: Settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def alice_api(alice: User) -> APIClient:
    return api_client(alice)


def acme(user: User, day: int, **fields: object) -> Appointment:
    fields.setdefault("customer", "Acme")
    fields.setdefault("billing_type", "billable")
    fields.setdefault("categories", ["Acme - billable"])
    fields.setdefault("subject", f"Acme {day}")
    return AppointmentFactory(user=user, start_time=datetime(2025, 5, day, 9, tzinfo=UTC), **fields)


# -- archive runs ------------------------------------------------------------------------------


@pytest.mark.django_db(databases=["default", "web"], transaction=True)
def test_an_archive_run_through_the_api_archives_and_reports_success(
    connected_alice: User, fake_alice: FakeMicrosoft, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Conf, "SYNC", True)  # django-q2 runs the queued task in-process
    configuration = ArchiveConfigurationFactory(user=connected_alice)
    add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")
    client = api_client(connected_alice)

    queued = client.post(
        api("archive-configuration-run", configuration.pk),
        {"dates": "8 May 2025"},
        format="json",
        HTTP_X_REQUEST_ID="api-run-1",
    )
    status = client.get(api("archive-run-detail", queued.json()["task_id"]))

    assert queued.status_code == 202
    assert queued.json()["correlation_id"] == "api-run-1"
    assert queued.json()["dates"] == "2025-05-08"
    assert status.status_code == 200
    body = status.json()
    assert body["status"] == "success"
    assert body["result"]["status"] == "success"
    assert (body["start"], body["end"]) == ("2025-05-08", "2025-05-08")
    assert {"run", "enqueue"} <= {row["operation"] for row in body["audit"]}
    assert Appointment.objects.get(user=connected_alice).subject == "Acme review"
    assert len(archive_copies(fake_alice, connected_alice)) == 1


@pytest.mark.django_db(databases=["default", "web"], transaction=True)
def test_a_queued_run_reports_queued_until_a_worker_takes_it(alice: User) -> None:
    configuration = ArchiveConfigurationFactory(user=alice)
    client = api_client(alice)

    queued = client.post(api("archive-configuration-run", configuration.pk), {}, format="json")
    status = client.get(queued.json()["status_url"])

    assert queued.status_code == 202
    assert OrmQ.objects.count() == 1
    assert status.json()["status"] == "queued"
    assert status.json()["audit"][0]["operation"] == "enqueue"


def test_a_run_refuses_a_date_phrase_it_does_not_understand(alice: User) -> None:
    configuration = ArchiveConfigurationFactory(user=alice)
    client = api_client(alice)

    with unchanged():
        response = client.post(
            api("archive-configuration-run", configuration.pk),
            {"dates": "the day after tomorrow"},
            format="json",
        )

    assert response.status_code == 400
    assert "is not a date phrase this archive understands" in response.json()["dates"][0]
    assert OrmQ.objects.count() == 0


def test_an_unknown_task_id_answers_404(alice_api: APIClient) -> None:
    assert alice_api.get(api("archive-run-detail", "f" * 32)).status_code == 404
    assert alice_api.get(api("archive-run-detail", "not-a-task")).status_code == 404


# -- timesheets --------------------------------------------------------------------------------


def test_generating_a_timesheet_bills_and_locks_the_periods_appointments(
    alice: User, alice_api: APIClient
) -> None:
    billed = [acme(alice, 8), acme(alice, 9)]
    globex = acme(alice, 9, customer="Globex")

    response = alice_api.post(api("timesheet-list"), MAY, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["appointments"] == 2
    assert body["billable"] == "2 hrs"
    assert body["timesheet"]["customer"] == "Acme"
    assert body["timesheet"]["status"] == "issued"
    timesheet = Timesheet.objects.get(pk=body["timesheet"]["id"])
    assert set(timesheet.appointments.all()) == set(billed)
    globex.refresh_from_db()
    assert globex.timesheet is None


def test_generation_reports_its_messages(alice: User, alice_api: APIClient) -> None:
    acme(alice, 8)
    acme(alice, 12, overlap_state="conflict")

    body = alice_api.post(api("timesheet-list"), MAY, format="json").json()

    assert body["blocked_by_conflicts"] == 1
    assert "unresolved overlap conflicts" in body["messages"][0]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**MAY, "end": "2025-04-01"}, "end"),
        ({**MAY, "end": "2026-12-31"}, "end"),
        ({**MAY, "customer": ""}, "customer"),
        ({**MAY, "start": "1st May"}, "start"),
        ({**MAY, "format": "pdf"}, "format"),
    ],
)
def test_bad_generation_input_is_400_and_issues_nothing(
    alice_api: APIClient, payload: dict, field: str
) -> None:
    with unchanged():
        response = alice_api.post(api("timesheet-list"), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Timesheet.objects.exists()


@pytest.mark.parametrize(
    ("fmt", "content_type", "magic"),
    [
        ("pdf", "application/pdf", b"%PDF"),
        ("csv", "text/csv; charset=utf-8", b""),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK"),
    ],
)
def test_a_timesheet_downloads_as_a_file(
    alice: User, alice_api: APIClient, fmt: str, content_type: str, magic: bytes
) -> None:
    acme(alice, 8)
    timesheet_id = alice_api.post(api("timesheet-list"), MAY, format="json").json()["timesheet"][
        "id"
    ]

    response = alice_api.get(api(f"timesheet-{fmt}", timesheet_id))

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    assert response.content.startswith(magic)
    if fmt == "csv":
        assert "Acme 8" in response.content.decode()


def test_voiding_a_timesheet_releases_its_appointments_and_a_second_void_is_409(
    alice: User, alice_api: APIClient
) -> None:
    appointment = acme(alice, 8)
    timesheet_id = alice_api.post(api("timesheet-list"), MAY, format="json").json()["timesheet"][
        "id"
    ]

    voided = alice_api.post(api("timesheet-void", timesheet_id))
    with unchanged():
        again = alice_api.post(api("timesheet-void", timesheet_id))

    appointment.refresh_from_db()
    assert voided.status_code == 200
    assert voided.json()["status"] == "void"
    assert appointment.timesheet is None
    assert again.status_code == 409
    assert "already void" in again.json()["detail"]


def test_uploading_a_timesheet_puts_its_files_on_onedrive(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    acme(connected_alice, 8)
    client = api_client(connected_alice)
    timesheet_id = client.post(api("timesheet-list"), MAY, format="json").json()["timesheet"]["id"]

    response = client.post(api("timesheet-upload-onedrive", timesheet_id))

    assert response.status_code == 200
    assert len(response.json()["files"]) == 3
    assert response.json()["timesheet"]["uploaded_to_onedrive"] is True
    assert len(fake_alice.files(connected_alice.email)) == 3


def test_uploading_without_microsoft_365_connected_is_409(
    alice: User, alice_api: APIClient, fake_alice: FakeMicrosoft
) -> None:
    acme(alice, 8)
    timesheet_id = alice_api.post(api("timesheet-list"), MAY, format="json").json()["timesheet"][
        "id"
    ]

    with unchanged(microsoft=fake_alice, allow_new=FAILURE_RECORDS):
        response = alice_api.post(api("timesheet-upload-onedrive", timesheet_id))

    assert response.status_code == 409
    assert "connect" in response.json()["detail"].lower()


# -- locked appointments -----------------------------------------------------------------------


@pytest.fixture
def billed(alice: User, alice_api: APIClient) -> Appointment:
    appointment = acme(alice, 8)
    alice_api.post(api("timesheet-list"), MAY, format="json")
    appointment.refresh_from_db()
    assert appointment.timesheet is not None
    return appointment


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_an_appointment_on_an_issued_timesheet_refuses_changes_with_409(
    billed: Appointment, alice_api: APIClient, method: str
) -> None:
    response = getattr(alice_api, method)(
        api("appointment-detail", billed.pk),
        {
            "subject": "Changed",
            "start_time": "2025-05-08T09:00:00Z",
            "end_time": "2025-05-08T11:00:00Z",
        },
        format="json",
    )

    assert response.status_code == 409
    assert "void that timesheet" in response.json()["detail"]
    assert Appointment.objects.get(pk=billed.pk).subject == "Acme 8"


def test_a_locked_appointment_says_so_and_unlocks_when_its_timesheet_is_void(
    billed: Appointment, alice_api: APIClient
) -> None:
    url = api("appointment-detail", billed.pk)
    assert alice_api.get(url).json()["locked"] is True

    alice_api.post(api("timesheet-void", billed.timesheet_id))
    response = alice_api.patch(url, {"subject": "Changed"}, format="json")

    assert response.status_code == 200
    assert response.json()["locked"] is False


# -- action log --------------------------------------------------------------------------------


def test_resolving_an_action_item_closes_it_and_audits_it(
    alice: User, alice_api: APIClient
) -> None:
    item = ActionLog.objects.create(user=alice, event_type="uncategorised", description="Lunch")

    response = alice_api.post(api("action-log-resolve", item.pk), HTTP_X_REQUEST_ID="resolve-1")

    assert response.status_code == 200
    assert response.json()["state"] == "resolved"
    assert response.json()["closed_by"] == alice.pk
    assert AuditLog.objects.get(action_type="action_log").correlation_id == "resolve-1"


def test_dismissing_a_closed_item_is_409(alice: User, alice_api: APIClient) -> None:
    item = ActionLog.objects.create(
        user=alice, event_type="uncategorised", state="resolved", closed_at=timezone.now()
    )

    with unchanged():
        response = alice_api.post(api("action-log-dismiss", item.pk))

    assert response.status_code == 409


def test_resolving_an_overlap_keeps_the_chosen_appointments(
    alice: User, alice_api: APIClient
) -> None:
    configuration = ArchiveConfigurationFactory(user=alice)
    kept, dropped = acme(alice, 8), acme(alice, 8, subject="Other")
    item = ActionLog.objects.create(
        user=alice,
        event_type="overlap",
        details={
            "configuration": configuration.pk,
            "appointments": [{"id": kept.pk}, {"id": dropped.pk}],
        },
    )

    response = alice_api.post(api("action-log-resolve", item.pk), {"keep": [kept.pk]}, "json")

    kept.refresh_from_db()
    dropped.refresh_from_db()
    assert response.status_code == 200
    assert (kept.overlap_state, dropped.overlap_state) == ("kept", "discarded")


def test_keeping_an_appointment_outside_the_overlap_is_400(
    alice: User, alice_api: APIClient
) -> None:
    item = ActionLog.objects.create(
        user=alice, event_type="overlap", details={"appointments": [{"id": 1}]}
    )

    with unchanged():
        response = alice_api.post(api("action-log-resolve", item.pk), {"keep": [999]}, "json")

    assert response.status_code == 400
    assert "Only appointments of this overlap" in response.json()["keep"][0]
    item.refresh_from_db()
    assert item.state == "open"


# -- categories --------------------------------------------------------------------------------


def test_syncing_categories_copies_outlook_categories(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    fake_alice.add_category(connected_alice.email, "Acme - billable", "preset0")
    fake_alice.add_category(connected_alice.email, "Online", "preset7")

    response = api_client(connected_alice).post(api("calendar-sync-categories"))

    assert response.status_code == 200
    assert response.json() == {"created": 2, "updated": 0, "unchanged": 0}
    assert Category.objects.filter(user=connected_alice).count() == 2


def test_syncing_categories_without_microsoft_365_is_409(
    alice_api: APIClient, fake_alice: FakeMicrosoft
) -> None:
    with unchanged(microsoft=fake_alice, allow_new=FAILURE_RECORDS):
        response = alice_api.post(api("calendar-sync-categories"))

    assert response.status_code == 409


def test_syncing_categories_when_graph_fails_is_502(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    fake_alice.inject(status=500, path_contains="/outlook/masterCategories", times=None)

    client = api_client(connected_alice)

    with unchanged(microsoft=fake_alice, allow_new=FAILURE_RECORDS):
        response = client.post(api("calendar-sync-categories"))

    assert response.status_code == 502


# -- throttling --------------------------------------------------------------------------------


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
