"""Issuing timesheets: what is billed, locking, voiding, late items, OneDrive, the command."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from accounts.models import User
from auditing.models import ActionLog, AuditLog
from calendars.models import Appointment
from tests.api_helpers import api, api_client, without_throttling
from tests.factories import AppointmentFactory, acme_at_nine_utc
from tests.fakes.microsoft import FakeMicrosoft
from tests.unchanged import FAILURE_RECORDS, unchanged
from timesheets.models import CustomerSettings, Timesheet
from timesheets.services import (
    TimesheetError,
    timesheet_generate,
    timesheet_upload_onedrive,
    timesheet_void,
)

pytestmark = pytest.mark.django_db(databases=["default", "web"])

MAY = (date(2025, 5, 1), date(2025, 5, 31))


@pytest.fixture(autouse=True)
def media_in_tmp(settings: object, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def acme(user: User, day: int, hour: int = 9, minutes: int = 60, **fields: object) -> Appointment:
    fields.setdefault("customer", "Acme")
    fields.setdefault("billing_type", "billable")
    fields.setdefault("categories", ["Acme - billable"])
    start = datetime(2025, 5, day, hour - 1, 0, tzinfo=UTC)  # hour is London (BST) time
    return AppointmentFactory(
        user=user, start_time=start, end_time=start + timedelta(minutes=minutes), **fields
    )


@pytest.fixture
def may(alice: User) -> dict[str, Appointment]:
    return {
        "review": acme(alice, 8, subject="Acme review", minutes=90),
        "workshop": acme(alice, 9, subject="Acme workshop", minutes=120),
        "travel": acme(alice, 9, hour=7, subject="Drive to Acme", is_travel=True),
        "admin": acme(alice, 12, subject="Acme invoicing", billing_type="non-billable"),
        "free": acme(alice, 13, subject="Focus", show_as="free"),
        "cancelled": acme(alice, 14, subject="Cancelled", is_cancelled=True),
        "oof": acme(alice, 15, subject="Holiday", is_out_of_office=True),
        "loser": acme(alice, 16, subject="Lost overlap", overlap_state="loser"),
        "conflict": acme(alice, 19, subject="Undecided", overlap_state="conflict"),
        "globex": acme(alice, 20, subject="Globex call", customer="Globex"),
        "personal": acme(alice, 21, subject="Dentist", customer=None, categories=[]),
        "june": AppointmentFactory(
            user=alice,
            subject="June work",
            customer="Acme",
            billing_type="billable",
            start_time=datetime(2025, 6, 2, 8, tzinfo=UTC),
        ),
        "bob": acme(User.objects.create_user("carol@example.com", "x-long-password-1"), 8),
    }


def test_a_timesheet_bills_the_customers_appointments_of_the_period_and_nothing_else(
    alice: User, may: dict[str, Appointment]
) -> None:
    generation = timesheet_generate(user=alice, customer="acme", start=MAY[0], end=MAY[1])

    billed = set(
        Appointment.objects.filter(timesheet=generation.timesheet).values_list("subject", flat=True)
    )
    assert billed == {"Acme review", "Acme workshop", "Drive to Acme", "Acme invoicing"}
    data = generation.data
    assert [r.subject for r in data.effort_rows] == [
        "Acme review",
        "Acme workshop",
        "Acme invoicing",
    ]
    assert data.effort_total == Decimal("4.5")
    assert data.effort_billable_total == Decimal("3.5")
    assert data.travel_billable_total == Decimal("0.5")
    assert generation.blocked_by_conflicts == 1
    assert "1 appointment(s) in unresolved overlap conflicts are left out" in generation.messages[0]


def test_issuing_stores_the_three_files_and_audits(alice: User, may: dict) -> None:
    timesheet = timesheet_generate(user=alice, customer="Acme", start=MAY[0], end=MAY[1]).timesheet

    for name in (timesheet.pdf_path, timesheet.csv_path, timesheet.excel_path):
        assert default_storage.exists(name)
    assert timesheet.pdf_path.endswith("Alice Archer timesheet for Acme 31 May 25.pdf")
    assert AuditLog.objects.get(action_type="timesheet", operation="generate").resource_id == str(
        timesheet.pk
    )


def test_a_second_timesheet_for_an_overlapping_period_is_refused_naming_the_first(
    alice: User, may: dict
) -> None:
    first = timesheet_generate(user=alice, customer="Acme", start=MAY[0], end=MAY[1]).timesheet

    with pytest.raises(TimesheetError, match=f"Timesheet {first.pk} .* already issued"):
        timesheet_generate(user=alice, customer="acme", start=MAY[1], end=MAY[1])

    assert Timesheet.objects.count() == 1


def test_a_timesheet_with_no_appointments_is_refused(alice: User) -> None:
    with pytest.raises(TimesheetError, match="nothing to issue"):
        timesheet_generate(user=alice, customer="Nobody", start=MAY[0], end=MAY[1])

    assert not Timesheet.objects.exists()


@pytest.mark.parametrize("end", [date(9999, 12, 31), date(2201, 1, 1)])
def test_a_period_past_2200_is_refused(alice: User, end: date) -> None:
    with pytest.raises(TimesheetError, match="between 1970-01-01 and 2200-12-31"):
        timesheet_generate(user=alice, customer="Acme", start=end, end=end)


def test_voiding_releases_the_appointments_for_the_next_timesheet(alice: User, may: dict) -> None:
    first = timesheet_generate(user=alice, customer="Acme", start=MAY[0], end=MAY[1]).timesheet

    released = timesheet_void(timesheet=first, user=alice)
    again = timesheet_generate(user=alice, customer="Acme", start=MAY[0], end=MAY[1])

    first.refresh_from_db()
    assert (released, first.status) == (4, "void")
    assert len(again.data.effort_rows) == 3
    assert AuditLog.objects.filter(operation="void", resource_id=str(first.pk)).exists()
    with pytest.raises(TimesheetError, match="already void"):
        timesheet_void(timesheet=first, user=alice)


def test_an_appointment_archived_late_goes_into_the_next_timesheet_and_it_says_so(
    alice: User, may: dict
) -> None:
    timesheet_generate(user=alice, customer="Acme", start=MAY[0], end=MAY[1])
    acme(alice, 22, subject="Archived late")

    june = timesheet_generate(
        user=alice, customer="Acme", start=date(2025, 6, 1), end=date(2025, 6, 30)
    )

    assert [r.subject for r in june.data.effort_rows] == ["Archived late", "June work"]
    assert june.late_items == 1
    assert "1 appointment(s) archived after their period was billed are included." in june.messages


def test_customer_settings_are_created_on_first_use_and_apply(alice: User, may: dict) -> None:
    timesheet_generate(user=alice, customer="Globex", start=MAY[0], end=MAY[1])
    settings_row = CustomerSettings.objects.get(user=alice, customer="Globex")
    assert (settings_row.travel_rate, settings_row.rounding_mode) == (Decimal("0.50"), "none")
    CustomerSettings.objects.create(
        user=alice,
        customer="Acme",
        display_name="Acme Corporation",
        rounding_interval=60,
        rounding_mode="up",
    )

    data = timesheet_generate(user=alice, customer="Acme", start=MAY[0], end=MAY[1]).data

    assert data.customer_display_name == "Acme Corporation"
    assert data.effort_total == Decimal(2 + 2 + 1)


@pytest.mark.parametrize(
    ("customer", "start", "end", "message"),
    [
        ("", MAY[0], MAY[1], "Name the customer"),
        ("Acme", MAY[1], MAY[0], "cannot be before the start date"),
        ("Acme", date(2024, 1, 1), date(2025, 6, 1), "at most 366 days"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_issued(
    alice: User, may: dict, customer: str, start: date, end: date, message: str
) -> None:
    with pytest.raises(TimesheetError, match=message):
        timesheet_generate(user=alice, customer=customer, start=start, end=end)

    assert not Timesheet.objects.exists()
    assert not Appointment.objects.filter(timesheet__isnull=False).exists()


def test_billed_appointments_are_read_only_in_the_admin(
    alice_client: Client, alice: User, may: dict
) -> None:
    timesheet_generate(user=alice, customer="Acme", start=MAY[0], end=MAY[1])
    review = may["review"]

    page = alice_client.get(reverse("admin:calendars_appointment_change", args=[review.pk]))
    with unchanged():
        changed = alice_client.post(
            reverse("admin:calendars_appointment_change", args=[review.pk]),
            {"subject": "Changed", "start_time_0": "08/05/2025", "start_time_1": "09:00:00"},
        )
        deleted = alice_client.post(
            reverse("admin:calendars_appointment_delete", args=[review.pk]), {"post": "yes"}
        )

    assert "read-only until that timesheet is void" in page.text
    assert 'name="subject"' not in page.text
    review.refresh_from_db()
    assert review.subject == "Acme review"
    assert changed.status_code == 403
    assert deleted.status_code == 403


def test_generate_in_the_admin_issues_and_reports(
    alice_client: Client, alice: User, may: dict
) -> None:
    response = alice_client.post(
        reverse("admin:timesheets_timesheet_generate"),
        {"customer": "Acme", "start": "2025-05-01", "end": "2025-05-31"},
        follow=True,
    )

    assert (
        "Timesheet issued for 1\u201331 May 2025, Europe/London: 4 row(s), 4.00 hrs billable."
        in response.text
    )
    assert "unresolved overlap conflicts are left out" in response.text
    assert Timesheet.objects.get(user=alice).customer == "Acme"


def test_generate_in_the_admin_shows_bad_dates_as_form_errors(
    alice_client: Client, may: dict
) -> None:
    with unchanged():
        response = alice_client.post(
            reverse("admin:timesheets_timesheet_generate"),
            {"customer": "Acme", "start": "2025-05-31", "end": "2025-05-01"},
        )

    assert "The end date cannot be before the start date." in response.text
    assert not Timesheet.objects.exists()


@pytest.mark.parametrize(
    ("fmt", "content_type", "magic"),
    [
        ("pdf", "application/pdf", b"%PDF"),
        ("csv", "text/csv", b"Date"),
        ("xlsx", "spreadsheetml", b"PK"),
    ],
)
def test_the_admin_downloads_each_file(
    alice_client: Client, alice: User, may: dict, fmt: str, content_type: str, magic: bytes
) -> None:
    timesheet = timesheet_generate(user=alice, customer="Acme", start=MAY[0], end=MAY[1]).timesheet

    response = alice_client.get(
        reverse("admin:timesheets_timesheet_download", args=[timesheet.pk, fmt])
    )

    assert response.status_code == 200
    assert content_type in response["Content-Type"]
    assert b"".join(
        response.streaming_content if response.streaming else [response.content]
    ).startswith(magic)
    assert "timesheet%20for%20Acme" in response["Content-Disposition"]


def test_void_in_the_admin_releases_the_appointments(
    alice_client: Client, alice: User, may: dict
) -> None:
    timesheet = timesheet_generate(user=alice, customer="Acme", start=MAY[0], end=MAY[1]).timesheet

    response = alice_client.post(
        reverse("admin:timesheets_timesheet_void", args=[timesheet.pk]), follow=True
    )

    assert "void; 4 appointment(s) released." in response.text
    assert not Appointment.objects.filter(timesheet__isnull=False).exists()


def test_bob_cannot_download_alices_timesheet(bob_client: Client, alice: User, may: dict) -> None:
    timesheet = timesheet_generate(user=alice, customer="Acme", start=MAY[0], end=MAY[1]).timesheet

    response = bob_client.get(
        reverse("admin:timesheets_timesheet_download", args=[timesheet.pk, "pdf"])
    )

    assert response.status_code == 404


def test_upload_to_onedrive_puts_the_three_files_in_the_customer_folder(
    connected_alice: User, fake_alice: FakeMicrosoft, may: dict
) -> None:
    timesheet = timesheet_generate(
        user=connected_alice, customer="Acme", start=MAY[0], end=MAY[1]
    ).timesheet

    timesheet_upload_onedrive(timesheet=timesheet, user=connected_alice)

    files = fake_alice.files(connected_alice.email)
    assert sorted(files) == [
        f"Timesheets/Acme/Alice Archer timesheet for Acme 31 May 25.{ext}"
        for ext in ("csv", "pdf", "xlsx")
    ]
    assert files["Timesheets/Acme/Alice Archer timesheet for Acme 31 May 25.pdf"].startswith(
        b"%PDF"
    )
    timesheet.refresh_from_db()
    assert timesheet.uploaded_to_onedrive
    assert not timesheet.uploaded_to_xero


def test_a_failed_upload_opens_an_item_and_a_retry_succeeds_and_closes_it(
    connected_alice: User, fake_alice: FakeMicrosoft, may: dict, alice_client: Client
) -> None:
    timesheet = timesheet_generate(
        user=connected_alice, customer="Acme", start=MAY[0], end=MAY[1]
    ).timesheet
    fake_alice.inject(status=507, path_contains="/drive/", times=None)

    with unchanged(microsoft=fake_alice, allow_new=FAILURE_RECORDS):
        failed = alice_client.post(
            reverse("admin:timesheets_timesheet_upload", args=[timesheet.pk]), follow=True
        )

    assert "the upload to OneDrive failed" in failed.text
    item = ActionLog.objects.get(event_type="upload_failed")
    assert item.state == "open"
    timesheet.refresh_from_db()
    assert not timesheet.uploaded_to_onedrive

    fake_alice.clear_faults()
    retried = alice_client.post(
        reverse("admin:timesheets_timesheet_upload", args=[timesheet.pk]), follow=True
    )

    assert "3 file(s) uploaded to OneDrive." in retried.text
    item.refresh_from_db()
    assert item.state == "resolved"


def test_the_timesheet_command_issues_writes_and_uploads(
    connected_alice: User,
    fake_alice: FakeMicrosoft,
    may: dict,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    call_command(
        "timesheet",
        connected_alice.email,
        "--customer", "Acme",
        "--start", "2025-05-01",
        "--end", "2025-05-31",
        "--format", "pdf,csv",
        "--output", str(tmp_path),
        "--upload", "onedrive",
    )  # fmt: skip

    out = capsys.readouterr().out
    assert "3 effort and 1 travel row(s), 4.00 hrs billable." in out
    assert (
        (tmp_path / "Alice Archer timesheet for Acme 31 May 25.pdf")
        .read_bytes()
        .startswith(b"%PDF")
    )
    assert (tmp_path / "Alice Archer timesheet for Acme 31 May 25.csv").exists()
    assert "Uploaded to OneDrive" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [
                "nobody@example.com",
                "--customer",
                "Acme",
                "--start",
                "2025-05-01",
                "--end",
                "2025-05-31",
            ],
            "No user",
        ),
        (
            ["alice@example.com", "--customer", "Acme", "--start", "May", "--end", "2025-05-31"],
            "--start",
        ),
        (
            [
                "alice@example.com",
                "--customer",
                "Acme",
                "--start",
                "2025-05-01",
                "--end",
                "2025-05-31",
                "--format",
                "doc",
            ],
            "Unknown format",
        ),
        (
            [
                "alice@example.com",
                "--customer",
                "Acme",
                "--start",
                "2025-05-31",
                "--end",
                "2025-05-01",
            ],
            "before the start",
        ),
    ],
)
def test_the_command_refuses_bad_input_and_issues_nothing(
    alice: User, may: dict, args: list[str], message: str
) -> None:
    with unchanged(), pytest.raises(CommandError, match=message):
        call_command("timesheet", *args)

    assert not Timesheet.objects.exists()


# -- through the API -----------------------------------------------------------------------------


MAY_BODY = {"customer": "Acme", "start": "2025-05-01", "end": "2025-05-31"}


@pytest.fixture(autouse=True)
def unthrottled(settings: Settings) -> None:
    without_throttling(settings)


def test_generating_a_timesheet_bills_and_locks_the_periods_appointments(
    alice: User, alice_api: APIClient
) -> None:
    billed = [acme_at_nine_utc(alice, 8), acme_at_nine_utc(alice, 9)]
    globex = acme_at_nine_utc(alice, 9, customer="Globex")

    response = alice_api.post(api("timesheet-list"), MAY_BODY, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["appointments"] == 2
    assert body["billable"] == "2.00 hrs"
    assert body["timesheet"]["customer"] == "Acme"
    assert body["timesheet"]["status"] == "issued"
    timesheet = Timesheet.objects.get(pk=body["timesheet"]["id"])
    assert set(timesheet.appointments.all()) == set(billed)
    globex.refresh_from_db()
    assert globex.timesheet is None


def test_generation_reports_its_messages(alice: User, alice_api: APIClient) -> None:
    acme_at_nine_utc(alice, 8)
    acme_at_nine_utc(alice, 12, overlap_state="conflict")

    body = alice_api.post(api("timesheet-list"), MAY_BODY, format="json").json()

    assert body["blocked_by_conflicts"] == 1
    assert "unresolved overlap conflicts" in body["messages"][0]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**MAY_BODY, "end": "2025-04-01"}, "end"),
        ({**MAY_BODY, "end": "2026-12-31"}, "end"),
        ({**MAY_BODY, "customer": ""}, "customer"),
        ({**MAY_BODY, "start": "1st May"}, "start"),
        ({**MAY_BODY, "format": "pdf"}, "format"),
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
    acme_at_nine_utc(alice, 8)
    timesheet_id = alice_api.post(api("timesheet-list"), MAY_BODY, format="json").json()[
        "timesheet"
    ]["id"]

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
    appointment = acme_at_nine_utc(alice, 8)
    timesheet_id = alice_api.post(api("timesheet-list"), MAY_BODY, format="json").json()[
        "timesheet"
    ]["id"]

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
    acme_at_nine_utc(connected_alice, 8)
    client = api_client(connected_alice)
    timesheet_id = client.post(api("timesheet-list"), MAY_BODY, format="json").json()["timesheet"][
        "id"
    ]

    response = client.post(api("timesheet-upload-onedrive", timesheet_id))

    assert response.status_code == 200
    assert len(response.json()["files"]) == 3
    assert response.json()["timesheet"]["uploaded_to_onedrive"] is True
    assert len(fake_alice.files(connected_alice.email)) == 3


def test_uploading_without_microsoft_365_connected_is_409(
    alice: User, alice_api: APIClient, fake_alice: FakeMicrosoft
) -> None:
    acme_at_nine_utc(alice, 8)
    timesheet_id = alice_api.post(api("timesheet-list"), MAY_BODY, format="json").json()[
        "timesheet"
    ]["id"]

    with unchanged(microsoft=fake_alice, allow_new=FAILURE_RECORDS):
        response = alice_api.post(api("timesheet-upload-onedrive", timesheet_id))

    assert response.status_code == 409
    assert "connect" in response.json()["detail"].lower()


def test_the_timesheet_list_links_each_timesheet_to_its_own_files(
    alice: User, alice_api: APIClient
) -> None:
    acme_at_nine_utc(alice, 8)
    acme_at_nine_utc(alice, 9, customer="Globex")
    for customer in ("Acme", "Globex"):
        alice_api.post(api("timesheet-list"), {**MAY_BODY, "customer": customer}, format="json")

    rows = alice_api.get(api("timesheet-list")).json()["results"]

    assert len(rows) == 2
    for row in rows:
        assert row["files"] == {
            fmt: f"http://testserver/api/v1/timesheets/{row['id']}/{fmt}/"
            for fmt in ("pdf", "csv", "xlsx")
        }
        assert alice_api.get(row["files"]["csv"]).status_code == 200
