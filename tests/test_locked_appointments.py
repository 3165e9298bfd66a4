"""A billed appointment is read-only on the model itself, whoever saves it: what its issued
timesheet printed stays as printed until the timesheet is voided."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from accounts.models import User
from calendars.models import Appointment, AppointmentLocked
from tests.api_helpers import api, without_throttling
from tests.factories import AppointmentFactory, acme_at_nine_utc
from timesheets.models import Timesheet
from timesheets.services import timesheet_generate, timesheet_void

pytestmark = pytest.mark.django_db(databases=["default", "web"])

MAY = (date(2025, 5, 1), date(2025, 5, 31))


@pytest.fixture(autouse=True)
def media_in_tmp(settings: object, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def billed(alice: User) -> Appointment:
    appointment = AppointmentFactory(
        user=alice, subject="Acme review", customer="Acme", billing_type="billable"
    )
    timesheet_generate(user=alice, customer="Acme", start=MAY[0], end=MAY[1])
    appointment.refresh_from_db()
    return appointment


def test_issuing_a_timesheet_locks_its_appointments(billed: Appointment) -> None:
    assert billed.is_locked
    assert billed.timesheet is not None


def test_saving_a_changed_billed_appointment_raises_and_changes_nothing(
    billed: Appointment,
) -> None:
    billed.subject = "Changed"
    billed.end_time = billed.end_time + timedelta(hours=2)

    with pytest.raises(AppointmentLocked, match="read-only until that timesheet is void"):
        billed.save()

    stored = Appointment.objects.get(pk=billed.pk)
    assert (stored.subject, stored.end_time) == (
        "Acme review",
        datetime(2025, 5, 8, 10, 0, tzinfo=UTC),
    )


def test_a_copy_read_before_the_timesheet_was_issued_cannot_change_it_either(
    alice: User,
) -> None:
    appointment = AppointmentFactory(user=alice, subject="Acme review", customer="Acme")
    stale = Appointment.objects.get(pk=appointment.pk)
    timesheet_generate(user=alice, customer="Acme", start=MAY[0], end=MAY[1])

    stale.customer = "Globex"
    with pytest.raises(AppointmentLocked):
        stale.save()

    assert Appointment.objects.get(pk=appointment.pk).customer == "Acme"


def test_saving_only_the_fields_to_update_checks_only_those(billed: Appointment) -> None:
    billed.subject = "Changed"
    billed.is_archived = True

    billed.save(update_fields=["is_archived"])

    stored = Appointment.objects.get(pk=billed.pk)
    assert (stored.subject, stored.is_archived) == ("Acme review", True)


def test_the_archive_runs_bookkeeping_still_saves_on_a_billed_appointment(
    billed: Appointment,
) -> None:
    billed.is_archived = True
    billed.overlap_state = Appointment.OverlapState.WINNER
    billed.ms_event_data = {"id": "event-1"}

    billed.save()

    stored = Appointment.objects.get(pk=billed.pk)
    assert (stored.is_archived, stored.overlap_state) == (True, "winner")


def test_unlocked_leaves_out_billed_appointments(alice: User, billed: Appointment) -> None:
    later = AppointmentFactory(
        user=alice, start_time=datetime(2025, 6, 2, 9, 0, tzinfo=UTC), customer="Acme"
    )

    mine = Appointment.objects.filter(user=alice)
    assert list(mine.unlocked()) == [later]
    assert list(mine.locked()) == [billed]


def test_voiding_the_timesheet_unlocks_the_appointment(alice: User, billed: Appointment) -> None:
    timesheet_void(timesheet=Timesheet.objects.get(), user=alice)
    billed.refresh_from_db()

    billed.subject = "Changed after the void"
    billed.save()

    assert not billed.is_locked
    assert Appointment.objects.get(pk=billed.pk).subject == "Changed after the void"
    assert Appointment.objects.filter(user=alice).unlocked().count() == 1


# -- through the API -----------------------------------------------------------------------------


MAY_BODY = {"customer": "Acme", "start": "2025-05-01", "end": "2025-05-31"}


@pytest.fixture(autouse=True)
def unthrottled(settings: Settings) -> None:
    without_throttling(settings)


@pytest.fixture
def issued_by_api(alice: User, alice_api: APIClient) -> Appointment:
    appointment = acme_at_nine_utc(alice, 8)
    alice_api.post(api("timesheet-list"), MAY_BODY, format="json")
    appointment.refresh_from_db()
    assert appointment.timesheet is not None
    return appointment


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_an_appointment_on_an_issued_timesheet_refuses_changes_with_409(
    issued_by_api: Appointment, alice_api: APIClient, method: str
) -> None:
    response = getattr(alice_api, method)(
        api("appointment-detail", issued_by_api.pk),
        {
            "subject": "Changed",
            "start_time": "2025-05-08T09:00:00Z",
            "end_time": "2025-05-08T11:00:00Z",
        },
        format="json",
    )

    assert response.status_code == 409
    assert "void that timesheet" in response.json()["detail"]
    assert Appointment.objects.get(pk=issued_by_api.pk).subject == "Acme 8"


def test_a_locked_appointment_says_so_and_unlocks_when_its_timesheet_is_void(
    issued_by_api: Appointment, alice_api: APIClient
) -> None:
    url = api("appointment-detail", issued_by_api.pk)
    assert alice_api.get(url).json()["locked"] is True

    alice_api.post(api("timesheet-void", issued_by_api.timesheet_id))
    response = alice_api.patch(url, {"subject": "Changed"}, format="json")

    assert response.status_code == 200
    assert response.json()["locked"] is False
