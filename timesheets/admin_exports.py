"""Ad-hoc timesheet exports of selected appointments (the Appointment changelist's "Export
timesheet" actions, which timesheets/admin.py adds). Admin code: it takes the admin's request and
answers with downloads or redirects to the admin's progress page.

Exports do not issue or lock anything. One customer gives one file; several give a zip. CSV of a
single customer streams, so 50,000 rows cost no more memory than 50. PDFs of more than
TIMESHEET_PDF_SYNC_LIMIT appointments render in a django-q2 task; the admin shows its progress.
"""

from __future__ import annotations

import uuid
import zoneinfo
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Max, Min
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import reverse
from django_q.tasks import async_task

from accounts.models import User
from calendars.models import Appointment, AppointmentQuerySet
from foundations.days import today_in
from foundations.downloads import attachment_response
from timesheets.billing import DailyCap, EffortRow, TimesheetData, TravelRow, timesheet_row
from timesheets.models import CustomerSettings
from timesheets.selectors import ITEM_COLUMNS, billing_item, customer_pricing
from timesheets.services import (
    CONTENT_TYPES,
    TimesheetError,
    customer_settings_for,
    render_documents,
    timesheet_data,
)

EXPORT_KEY = "timesheet-export:{}"
EXPORT_TTL = 24 * 3600
CHUNK = 2000


def export_groups(appointments: AppointmentQuerySet) -> list[tuple[int, str]]:
    """(user id, customer) pairs of what can be billed, in a stable order."""
    return list(
        appointments.billable()
        .values_list("user_id", "customer")
        .distinct()
        .order_by("user_id", "customer")
    )


def group_data(appointments: AppointmentQuerySet, user: User, customer: str) -> TimesheetData:
    rows = appointments.billable().filter(user=user, customer=customer).order_by("start_time", "pk")
    zone = zoneinfo.ZoneInfo(user.timezone)
    span = rows.aggregate(first=Min("start_time"), last=Max("start_time"))
    return timesheet_data(
        user=user,
        customer=customer,
        start=span["first"].astimezone(zone).date(),
        end=span["last"].astimezone(zone).date(),
        appointments=rows,
    )


def appointments_export(
    *, request: HttpRequest, appointments: AppointmentQuerySet, fmt: str
) -> HttpResponse | StreamingHttpResponse:
    groups = export_groups(appointments)
    if not groups:
        raise TimesheetError(
            "None of the selected appointments can be billed (free, cancelled, out of office, "
            "personal or lost an overlap)."
        )
    users = User.objects.in_bulk({user_id for user_id, _ in groups})
    if fmt == "csv" and len(groups) == 1:
        user_id, customer = groups[0]
        return _streamed_csv(appointments, users[user_id], customer)
    if fmt == "pdf" and appointments.billable().count() > (settings.TIMESHEET_PDF_SYNC_LIMIT):
        return _queued_pdf(request, appointments, groups)
    files = _render_groups(appointments, groups, users, fmt)
    if len(files) == 1:
        [(name, content)] = files.items()
        return attachment_response(content, name=name, content_type=CONTENT_TYPES[fmt])
    from timesheets.documents import zip_files

    return attachment_response(
        zip_files(files), name="timesheets.zip", content_type=CONTENT_TYPES["zip"]
    )


def _render_groups(
    appointments: AppointmentQuerySet,
    groups: list[tuple[int, str]],
    users: dict[int, User],
    fmt: str,
) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for user_id, customer in groups:
        data = group_data(appointments, users[user_id], customer)
        name = f"{data.file_stem}.{fmt}"
        files[name] = render_documents(data, [fmt])[fmt]
    return files


# -- streaming CSV ----------------------------------------------------------------------------


def _streamed_csv(
    appointments: AppointmentQuerySet, user: User, customer: str
) -> StreamingHttpResponse:
    settings_row = customer_settings_for(user=user, customer=customer)
    rows = appointments.billable().filter(user=user, customer=customer)
    span = rows.aggregate(first=Min("start_time"), last=Max("start_time"))
    zone = zoneinfo.ZoneInfo(user.timezone)
    stem = TimesheetData(
        customer=customer,
        customer_display_name=settings_row.display_name or customer,
        consultant=user.name or user.email,
        report_date=today_in(user.timezone),
        start_date=span["first"].astimezone(zone).date(),
        end_date=span["last"].astimezone(zone).date(),
    ).file_stem
    return attachment_response(
        csv_document_stream(rows, user=user, settings_row=settings_row),
        name=f"{stem}.csv",
        content_type=CONTENT_TYPES["csv"],
        streaming=True,
    )


def _rows(
    appointments: AppointmentQuerySet,
    *,
    user: User,
    travel: bool,
    zone: zoneinfo.ZoneInfo,
    settings_row: CustomerSettings,
) -> Iterator[EffortRow | TravelRow]:
    query = appointments.filter(is_travel=travel).order_by("start_time", "end_time", "pk")
    rounding = settings_row.rounding()
    pricing = customer_pricing(user=user, customer_settings=settings_row)
    cap = DailyCap(pricing.daily_cap if not travel else None)
    for values in query.values_list(*ITEM_COLUMNS).iterator(chunk_size=CHUNK):
        row = timesheet_row(
            billing_item(*values),
            zone=zone,
            travel_rate=settings_row.travel_rate,
            rounding=rounding,
            pricing=pricing,
        )
        if not travel:
            assert isinstance(row, EffortRow)  # the query holds no travel
            cap.apply(row)
        yield row


Row = EffortRow | TravelRow


def csv_document_stream(
    appointments: AppointmentQuerySet, *, user: User, settings_row: Any
) -> Iterator[bytes]:
    """The same CSV as `render_csv`, produced row by row from the database, its overall totals
    summed on the way."""
    from timesheets.documents import csv_stream, csv_totals, totals_rows

    zone = zoneinfo.ZoneInfo(user.timezone)
    pricing = customer_pricing(user=user, customer_settings=settings_row)
    sums = {"billable": Decimal(0), "effort": Decimal(0), "travel": Decimal(0)}

    def tallied(
        rows: Iterator[EffortRow | TravelRow], kind: str
    ) -> Iterator[EffortRow | TravelRow]:
        for row in rows:
            sums["billable"] += row.billable
            sums[kind] += row.amount or Decimal(0)
            yield row

    yield from csv_stream(
        tallied(
            _rows(appointments, user=user, travel=False, zone=zone, settings_row=settings_row),
            "effort",
        ),
        kind="effort",
        pricing=pricing,
    )
    if appointments.filter(is_travel=True).exists():
        yield b"\r\n"
        yield from csv_stream(
            tallied(
                _rows(appointments, user=user, travel=True, zone=zone, settings_row=settings_row),
                "travel",
            ),
            kind="travel",
            pricing=pricing,
        )
    yield csv_totals(
        totals_rows(
            billable=sums["billable"],
            effort_amount=sums["effort"],
            travel_amount=sums["travel"],
            pricing=pricing,
        )
    )


# -- PDFs rendered on the cluster ----------------------------------------------------------


def _queued_pdf(
    request: HttpRequest, appointments: AppointmentQuerySet, groups: list[tuple[int, str]]
) -> HttpResponse:
    export_id = uuid.uuid4().hex
    ids = list(appointments.billable().values_list("pk", flat=True))
    export_state_set(
        export_id,
        {
            "user": request.user.pk,
            "state": "queued",
            "done": 0,
            "total": len(groups),
            "rows": len(ids),
        },
    )
    async_task(
        "timesheets.tasks.export_pdf_task",
        export_id,
        ids,
        task_name=f"timesheet export {export_id}",
    )
    return HttpResponseRedirect(reverse("admin:timesheets_export_progress", args=[export_id]))


def export_state(export_id: str) -> dict[str, Any] | None:
    return cache.get(EXPORT_KEY.format(export_id))


def export_state_set(export_id: str, state: dict[str, Any]) -> None:
    cache.set(EXPORT_KEY.format(export_id), state, EXPORT_TTL)


def export_pdf_render(export_id: str, appointment_ids: list[int]) -> None:
    """Render a large export, recording progress per customer for the admin's progress page."""
    state = export_state(export_id) or {"state": "queued"}
    appointments = Appointment.objects.filter(pk__in=appointment_ids)
    groups = export_groups(appointments)
    users = User.objects.in_bulk({user_id for user_id, _ in groups})
    state.update({"state": "rendering", "done": 0, "total": len(groups)})
    export_state_set(export_id, state)
    files: dict[str, bytes] = {}
    try:
        for user_id, customer in groups:
            files.update(_render_groups(appointments, [(user_id, customer)], users, "pdf"))
            state["done"] += 1
            export_state_set(export_id, state)
        if len(files) == 1:
            [(name, content)] = files.items()
        else:
            from timesheets.documents import zip_files

            name, content = "timesheets.zip", zip_files(files)
        stored = default_storage.save(f"exports/{export_id}/{name}", ContentFile(content))
    except Exception as error:
        state.update({"state": "failed", "error": str(error)[:300]})
        export_state_set(export_id, state)
        raise
    state.update({"state": "done", "file": stored, "name": name})
    export_state_set(export_id, state)
