"""The appointment admin and the API show the same fields of an appointment, from one list."""

from __future__ import annotations

from django.contrib import admin

from calendars.api import AppointmentSerializer
from calendars.models import Appointment

ADMIN_ONLY = {"billed_on", "archive_copies_list", "ms_event_data"}
API_ONLY = {"id", "locked", "is_cancelled", "archive_copies"}


def test_the_admin_page_and_the_api_show_the_same_appointment_fields() -> None:
    model_admin = admin.site._registry[Appointment]
    on_admin = {field for _name, options in model_admin.fieldsets for field in options["fields"]}
    on_api = set(AppointmentSerializer.Meta.fields)

    assert on_admin - ADMIN_ONLY == on_api - API_ONLY
