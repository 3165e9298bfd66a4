"""The API lists' fast paths answer exactly what DRF's own would: each serializer's
representation plan against DRF's generic `Serializer.to_representation`, the filter sets'
shallow copies against django-filter's, money's kept formatting, and times in UTC."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIRequestFactory

from accounts.models import User
from archiving.models import ArchiveCopy
from auditing.api import ActionLogSerializer, AuditLogSerializer
from auditing.models import ActionLog, AuditLog
from calendars.api import AppointmentFilterSet, AppointmentSerializer, CategorySerializer
from calendars.models import Appointment, Calendar, Category
from foundations.figures import format_amount, format_money
from tests.factories import acme_at_nine_utc
from timesheets.api import TimesheetSerializer
from timesheets.models import CustomerSettings, Timesheet
from timesheets.services import timesheet_generate

pytestmark = pytest.mark.django_db(databases=["default", "web"])


@pytest.fixture(autouse=True)
def media_in_tmp(settings: object, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def month(alice: User) -> Timesheet:
    CustomerSettings.objects.create(
        user=alice, customer="Acme", currency="GBP", hourly_rate=Decimal("120.00")
    )
    Category.objects.create(user=alice, name="Acme - billable", color="preset3", is_internal=False)
    for day in (5, 6, 7):
        acme_at_nine_utc(alice, day, is_archived=True, is_private=day == 6)
    acme_at_nine_utc(alice, 20, billable_override=False, source_deleted_at=timezone.now())
    ActionLog.objects.create(
        user=alice,
        event_type=ActionLog.EventType.UNCATEGORISED,
        description="A meeting with no category",
        details={"appointment": Appointment.objects.filter(user=alice).first().pk},
    )
    return timesheet_generate(
        user=alice, customer="Acme", start=date(2025, 5, 1), end=date(2025, 5, 10)
    ).timesheet


def generic(serializer: serializers.Serializer, instance: object) -> dict:
    """DRF's own representation: every field's source resolved, every field's conversion."""
    return dict(serializers.Serializer.to_representation(serializer, instance))


@pytest.mark.parametrize(
    "serializer_class, model",
    [
        (AppointmentSerializer, Appointment),
        (TimesheetSerializer, Timesheet),
        (ActionLogSerializer, ActionLog),
        (AuditLogSerializer, AuditLog),
        (CategorySerializer, Category),
    ],
)
def test_each_row_is_what_drfs_own_representation_writes(
    alice: User, month: Timesheet, serializer_class: type, model: type
) -> None:
    request = APIRequestFactory().get("/api/v1/")
    request.user = alice
    rows = list(model.objects.filter(user=alice))
    assert rows, "the month has rows of each kind"
    for row in rows:
        fast = serializer_class(row, context={"request": request})
        slow = serializer_class(row, context={"request": request})
        assert fast.data == generic(slow, row)
        # The JSON is the same text too: no value of another type that prints alike.
        assert JSONRenderer().render(fast.data) == JSONRenderer().render(generic(slow, row))


def test_a_filter_set_holds_what_django_filters_own_would(alice: User) -> None:
    import django_filters

    data = {"customer": "acme", "start": "2025-05-01T00:00:00Z"}
    ours = AppointmentFilterSet(data, Appointment.objects.all())
    theirs = django_filters.filterset.BaseFilterSet.__new__(AppointmentFilterSet)
    django_filters.filterset.BaseFilterSet.__init__(theirs, data, Appointment.objects.all())
    assert set(vars(ours)) == set(vars(theirs))
    for name, filter_ in ours.filters.items():
        assert filter_ is not AppointmentFilterSet.base_filters[name]
        assert filter_.parent is ours and filter_.model is Appointment
        assert vars(filter_).keys() == vars(theirs.filters[name]).keys()
    assert str(ours.qs.query) == str(theirs.qs.query)


def test_bad_filter_input_is_still_refused_when_other_filters_are_absent(
    alice_api: object,
) -> None:
    response = alice_api.get("/api/v1/appointments/?start=not-a-date")  # type: ignore[attr-defined]
    assert response.status_code == 400
    assert "start" in response.json()
    unfiltered = alice_api.get("/api/v1/appointments/?unrelated=1")  # type: ignore[attr-defined]
    assert unfiltered.status_code == 200


def test_money_prints_the_same_every_time_and_never_as_minus_zero() -> None:
    assert format_money(Decimal("-0"), "GBP") == "£0.00"
    assert format_money(Decimal("0"), "GBP") == "£0.00"
    assert format_money(Decimal("1.5"), "GBP") == format_money(Decimal("1.50"), "GBP") == "£1.50"
    assert format_money(Decimal("1234.5"), "EUR") == "€1,234.50"
    assert format_amount(Decimal("1234.5"), "EUR") == "1,234.50"
    assert format_money(Decimal("-12.50"), "GBP") == "-£12.50"
    assert format_money(Decimal("1234"), "JPY") == "¥1,234"


def test_archive_copies_times_are_utc_even_for_a_signed_in_browser_in_another_zone(
    alice: User, alice_client: Client
) -> None:
    alice.timezone = "Asia/Tokyo"
    alice.save(update_fields=["timezone"])
    appointment = acme_at_nine_utc(alice, 5)
    archive = Calendar.objects.create(user=alice, name="Billable Archive", is_archive=True)
    ArchiveCopy.objects.create(appointment=appointment, destination=archive, event_id="copy-1")
    stamp = datetime(2025, 5, 5, 23, 30, tzinfo=UTC)
    ArchiveCopy.objects.filter(appointment=appointment).update(created_at=stamp, updated_at=stamp)

    listed = json.loads(alice_client.get("/api/v1/appointments/").content)["results"][0]
    one = json.loads(alice_client.get(f"/api/v1/appointments/{appointment.pk}/").content)

    for row in (listed, one):
        assert row["start_time"] == "2025-05-05T09:00:00Z"
        assert row["archive_copies"][0]["created_at"] == "2025-05-05T23:30:00Z"
        assert row["archive_copies"][0]["updated_at"] == "2025-05-05T23:30:00Z"


@pytest.mark.parametrize(
    "value",
    ["120.00", "1.5", "0.00", "-0.00", "-12.50", "1234567890.12", "99999999999.99", "7", "1E+3"],
)
def test_a_money_column_is_written_as_drfs_decimal_field_writes_it(value: str) -> None:
    from foundations.api.serializers import decimal_conversion

    field = serializers.DecimalField(max_digits=12, decimal_places=2)
    ours = decimal_conversion(field)
    try:
        expected = field.to_representation(Decimal(value))
    except ArithmeticError as error:
        with pytest.raises(type(error)):
            ours(Decimal(value))
        return
    assert ours(Decimal(value)) == expected


def test_a_decimal_field_drf_localizes_or_normalizes_keeps_drfs_own_conversion() -> None:
    from foundations.api.serializers import decimal_conversion

    for field in (
        serializers.DecimalField(max_digits=12, decimal_places=2, localize=True),
        serializers.DecimalField(max_digits=12, decimal_places=2, normalize_output=True),
        serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=False),
    ):
        assert decimal_conversion(field) == field.to_representation


def test_a_date_is_written_as_drfs_date_field_writes_it() -> None:
    from foundations.api.serializers import date_conversion

    field = serializers.DateField()
    assert date_conversion(field)(date(2025, 5, 1)) == field.to_representation(date(2025, 5, 1))
    assert date_conversion(field)("2025-05-01") == "2025-05-01"
    with pytest.raises(AssertionError):
        date_conversion(field)(datetime(2025, 5, 1, tzinfo=UTC))
    custom = serializers.DateField(format="%d/%m/%Y")
    assert date_conversion(custom) == custom.to_representation
