"""The Appointment changelist's "Export timesheet" actions."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django_q.conf import Conf

from accounts.models import User
from calendars.models import Appointment
from tests.factories import AppointmentFactory
from timesheets.documents import render_csv
from timesheets.services import timesheet_data

pytestmark = pytest.mark.django_db(databases=["default", "web"])


@pytest.fixture(autouse=True)
def media_in_tmp(settings: object, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def booked(user: User, customer: str, n: int, **fields: object) -> Appointment:
    start = datetime(2025, 5, 1, 8, tzinfo=UTC) + timedelta(hours=n)
    fields.setdefault("subject", f"{customer} work {n}")
    return AppointmentFactory(
        user=user,
        customer=customer,
        billing_type="billable",
        categories=[f"{customer} - billable"],
        start_time=start,
        **fields,
    )


def export(client: Client, action: str, appointments: list[Appointment], **extra: str) -> object:
    return client.post(
        reverse("admin:calendars_appointment_changelist"),
        {"action": action, "_selected_action": [a.pk for a in appointments], **extra},
    )


def body(response: object) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_one_customer_exports_one_pdf(alice_client: Client, alice: User) -> None:
    rows = [booked(alice, "Acme", n) for n in range(3)]

    response = export(alice_client, "export_pdf", rows)

    assert response["Content-Type"] == "application/pdf"
    assert body(response).startswith(b"%PDF")
    assert "Alice%20Archer%20timesheet%20for%20Acme" in response["Content-Disposition"]


def test_several_customers_export_a_zip_with_a_file_each(alice_client: Client, alice: User) -> None:
    rows = [booked(alice, "Acme", 1), booked(alice, "Globex", 2), booked(alice, "Acme", 3)]

    response = export(alice_client, "export_xlsx", rows)

    assert response["Content-Type"] == "application/zip"
    names = sorted(zipfile.ZipFile(io.BytesIO(body(response))).namelist())
    assert names == [
        "Alice Archer timesheet for Acme 1 May 25.xlsx",
        "Alice Archer timesheet for Globex 1 May 25.xlsx",
    ]


def test_csv_streams_the_same_rows_and_totals_as_the_document(
    alice_client: Client, alice: User
) -> None:
    rows = [booked(alice, "Acme", n) for n in range(5)]
    rows.append(booked(alice, "Acme", 6, subject="Drive to Acme", is_travel=True))

    response = export(alice_client, "export_csv", rows)

    assert response.streaming
    data = timesheet_data(
        user=alice,
        customer="Acme",
        start=rows[0].start_time.date(),
        end=rows[-1].start_time.date(),
        appointments=Appointment.objects.filter(user=alice).billable().order_by("start_time"),
    )
    streamed = list(csv.reader(io.StringIO(body(response).decode("utf-8-sig"))))
    rendered = list(csv.reader(io.StringIO(render_csv(data).decode("utf-8-sig"))))
    assert streamed == rendered


def test_appointments_that_cannot_be_billed_give_a_message(
    alice_client: Client, alice: User
) -> None:
    rows = [
        booked(alice, "Acme", 1, show_as="free"),
        AppointmentFactory(user=alice, subject="Dentist"),
    ]

    response = export(alice_client, "export_pdf", rows)
    page = alice_client.get(reverse("admin:calendars_appointment_changelist"))

    assert response.status_code == 302
    assert "None of the selected appointments can be billed" in page.text


def test_bob_cannot_export_alices_appointments(bob_client: Client, alice: User) -> None:
    rows = [booked(alice, "Acme", n) for n in range(2)]

    response = export(bob_client, "export_pdf", rows)

    assert response.status_code == 302  # nothing selected that bob can see
    assert not body(response).startswith(b"%PDF")


def test_selecting_across_every_page_exports_them_all(alice_client: Client, alice: User) -> None:
    Appointment.objects.bulk_create(
        [
            Appointment(
                user=alice,
                subject=f"Acme work {n}",
                customer="Acme",
                billing_type="billable",
                start_time=datetime(2025, 5, 1, tzinfo=UTC) + timedelta(minutes=30 * n),
                end_time=datetime(2025, 5, 1, tzinfo=UTC) + timedelta(minutes=30 * n + 20),
            )
            for n in range(1500)
        ]
    )

    response = export(
        alice_client, "export_csv", [Appointment.objects.first()], select_across="1", index="0"
    )

    lines = body(response).decode("utf-8-sig").splitlines()
    assert sum(1 for line in lines if "Acme work" in line) == 1500


def test_a_big_pdf_export_renders_on_the_cluster_with_progress(
    alice_client: Client,
    alice: User,
    settings: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.TIMESHEET_PDF_SYNC_LIMIT = 3
    rows = [booked(alice, "Acme", n) for n in range(4)] + [booked(alice, "Globex", 9)]
    monkeypatch.setattr(Conf, "SYNC", True)

    response = export(alice_client, "export_pdf", rows)
    progress = alice_client.get(response["Location"])
    download = alice_client.get(response["Location"] + "download/")

    assert "/admin/timesheets/timesheet/exports/" in response["Location"]
    assert "The export is ready (5 appointments)" in progress.text
    assert download["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(body(download))).namelist()
    assert len(names) == 2 and all(name.endswith(".pdf") for name in names)
    assert bob_cannot_see(response["Location"], alice)


def bob_cannot_see(url: str, alice: User) -> bool:
    bob = User.objects.create_user("mallory@example.com", "long-password-123", is_staff=True)
    client = Client()
    client.force_login(bob)
    return client.get(url).status_code == 404


def test_a_queued_export_shows_its_progress_before_it_is_done(
    alice_client: Client, alice: User, settings: object
) -> None:
    settings.TIMESHEET_PDF_SYNC_LIMIT = 1
    rows = [booked(alice, "Acme", n) for n in range(2)]

    response = export(alice_client, "export_pdf", rows)
    progress = alice_client.get(response["Location"])

    assert "Rendering 2 appointments on the background workers: 0 of 1" in progress.text
    assert 'http-equiv="refresh"' in progress.text
