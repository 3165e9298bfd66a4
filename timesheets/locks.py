"""The billed-appointment lock, timesheets' rule: an appointment billed on an issued timesheet is
read-only in what the timesheet printed until the timesheet is voided. Registered as a save check
on the appointment model when the app is ready (`TimesheetsConfig.ready`), so every save — admin,
API, archive run, shell — meets it, and calendars need not know timesheets exist."""

from __future__ import annotations

from collections.abc import Iterable

from calendars.models import Appointment, AppointmentLocked
from timesheets.models import Timesheet

# What an issued timesheet prints of an appointment, and whose it is. The rest may change while
# it is billed: the link to the timesheet itself (issue sets it, void clears it) and the archive
# run's bookkeeping (archived, gone from the source, overlap state, Outlook's raw data).
BILLED_FIELDS = (
    "user",
    "start_time",
    "end_time",
    "subject",
    "categories",
    "location",
    "category",
    "customer",
    "billing_type",
    "is_travel",
    "is_private",
    "billable_override",
)


def billed_changes_refuse(appointment: Appointment, update_fields: Iterable[str] | None) -> None:
    """Raise AppointmentLocked when the save would change what an issued timesheet billed.
    Read from the database, not this object, so a stale or hand-built instance cannot slip
    past."""
    if appointment._state.adding or appointment.pk is None:
        return
    fields = [
        field
        for field in Appointment._meta.concrete_fields
        if field.name in BILLED_FIELDS and (update_fields is None or field.name in update_fields)
    ]
    if not fields:
        return
    stored = (
        Appointment._base_manager.filter(pk=appointment.pk, timesheet__isnull=False)
        .values("timesheet_id", *(field.attname for field in fields))
        .first()
    )
    if stored is None:
        return
    if any(getattr(appointment, field.attname) != stored[field.attname] for field in fields):
        timesheet = Timesheet._base_manager.get(pk=stored["timesheet_id"])
        raise AppointmentLocked(
            f"Billed on timesheet “{timesheet}”: read-only until that timesheet is void."
        )
