"""The fields of an appointment as a person reads them, in one place: the admin's fieldsets and
the API's serializer are built from these lists, so both show (and let a person change) the
same fields in the same groups. Each adds only its own views around them: the admin its
"billed on" line, copies list and raw Outlook data, the API its `id`, `locked`, `is_cancelled`
and `archive_copies`."""

from __future__ import annotations

APPOINTMENT_WHEN = ("user", "subject", "start_time", "end_time", "is_all_day")
APPOINTMENT_BILLING = (
    "customer",
    "billing_type",
    "billable_override",
    "is_travel",
    "category",
    "categories",
    "timesheet",
    "overlap_state",
    "overlap_reason",
)
APPOINTMENT_OUTLOOK = (
    "calendar",
    "location",
    "show_as",
    "importance",
    "sensitivity",
    "is_private",
    "is_out_of_office",
    "is_archived",
    "source_deleted_at",
    "ms_event_id",
    "recurrence",
)
APPOINTMENT_STAMPS = ("created_at", "updated_at")
