"""A billed appointment is read-only on the model itself, whoever saves it: what its issued
timesheet printed stays as printed until the timesheet is voided."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from accounts.models import User
from calendars.models import Appointment, AppointmentLocked
from tests.factories import AppointmentFactory
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
