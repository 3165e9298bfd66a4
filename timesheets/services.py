"""Timesheet workflows: generate (issue and lock), regenerate files, void, upload to OneDrive."""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.microsoft import graph_client
from accounts.models import User
from auditing.models import ActionLog, AuditLog
from auditing.services import audit_operation
from calendars.models import Appointment, AppointmentQuerySet, category_names, starts_in_period
from foundations.days import day_bounds_utc, today_in
from foundations.graph import onedrive_name, onedrive_path
from timesheets.billing import (
    DEFAULT_TRAVEL_RATE,
    BillableItem,
    Pricing,
    Rounding,
    TimesheetData,
    format_hours,
    timesheet_rows,
)
from timesheets.models import BillingProfile, CustomerSettings, Timesheet

logger = logging.getLogger(__name__)

FORMATS = ("pdf", "csv", "xlsx")
PATH_FIELDS = {"pdf": "pdf_path", "csv": "csv_path", "xlsx": "excel_path"}
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}


class TimesheetError(Exception):
    """Bad input or a state that forbids the operation; the message says which."""


class TimesheetFileGone(TimesheetError):
    """The file is not stored and will not be made again (the timesheet is void)."""


class TimesheetStorageError(TimesheetError):
    """The document storage (disk or object store) could not be read."""


@dataclass
class TimesheetGeneration:
    timesheet: Timesheet
    data: TimesheetData
    late_items: int = 0
    blocked_by_conflicts: int = 0
    messages: list[str] = field(default_factory=list)


def customer_settings_for(*, user: User, customer: str) -> CustomerSettings:
    """The customer's settings, created with defaults on first use."""
    existing = CustomerSettings.objects.filter(user=user, customer__iexact=customer).first()
    if existing:
        return existing
    return CustomerSettings.objects.create(user=user, customer=customer, display_name=customer)


def customer_pricing(*, user: User, customer_settings: CustomerSettings) -> Pricing:
    """The rates the customer bills at now: its own, else the user's default rate."""
    default = BillingProfile.objects.filter(user=user).first()
    return customer_settings.pricing(default=default)


ITEM_COLUMNS = (
    "pk",
    "start_time",
    "end_time",
    "subject",
    "categories",
    "location__name",
    "billing_type",
    "is_travel",
    "is_private",
    "billable_override",
)


def billing_items(
    appointments: Iterable[Appointment] | QuerySet[Appointment],
) -> list[BillableItem]:
    """Billing's view of appointments; a queryset is read as plain values (no model objects),
    which keeps a year's export fast."""
    if isinstance(appointments, QuerySet):
        return [billing_item(*values) for values in appointments.values_list(*ITEM_COLUMNS)]
    return [
        billing_item(
            a.pk,
            a.start_time,
            a.end_time,
            a.subject,
            a.categories,
            a.location.name if a.location is not None else None,
            a.billing_type,
            a.is_travel,
            a.is_private,
            a.billable_override,
        )
        for a in appointments
    ]


def billing_item(
    pk: int,
    start: datetime,
    end: datetime,
    subject: str | None,
    categories: list[str] | None,
    location: str | None,
    billing_type: str | None,
    travel: bool,
    private: bool,
    override: bool | None,
) -> BillableItem:
    return BillableItem(
        key=pk,
        start=start,
        end=end,
        subject=subject or "",
        categories=category_names(categories),
        location=location or "",
        billing_type=billing_type or "billable",
        is_travel=travel,
        is_private=private,
        billable_override=override,
    )


def timesheet_data(
    *,
    user: User,
    customer: str,
    start: date,
    end: date,
    appointments: Iterable[Appointment],
    customer_settings: CustomerSettings | None = None,
    frozen: Timesheet | None = None,
) -> TimesheetData:
    """The rows and totals to print; an issued timesheet's frozen terms win over the settings."""
    customer_settings = customer_settings or customer_settings_for(user=user, customer=customer)
    travel_share = customer_settings.travel_rate
    rounding: Rounding = customer_settings.rounding()
    if frozen is not None and frozen.travel_share is not None:  # its terms are frozen
        pricing = frozen.pricing()
        travel_share = frozen.travel_share
        rounding = frozen.rounding()
    else:
        pricing = customer_pricing(user=user, customer_settings=customer_settings)
    effort, travel = timesheet_rows(
        billing_items(appointments),
        timezone=user.timezone,
        travel_rate=travel_share,
        rounding=rounding,
        pricing=pricing,
    )
    return TimesheetData(
        customer=customer,
        customer_display_name=customer_settings.display_name or customer,
        legal_name=customer_settings.legal_name,
        consultant=user.name or user.email,
        report_date=today_in(user.timezone),
        start_date=start,
        end_date=end,
        effort_rows=effort,
        travel_rows=travel,
        pricing=pricing,
        time_zone=user.timezone,
    )


def render_documents(data: TimesheetData, formats: Iterable[str] = FORMATS) -> dict[str, bytes]:
    from timesheets import documents

    renderers: dict[str, Callable[[TimesheetData], bytes]] = {
        "pdf": documents.render_pdf,
        "csv": documents.render_csv,
        "xlsx": documents.render_xlsx,
    }
    return {fmt: renderers[fmt](data) for fmt in formats}


def _late_items(user: User, customer: str, before: date) -> Q:
    """Unbilled appointments dated in a period this customer was already billed for."""
    periods = Timesheet.objects.filter(
        user=user,
        customer__iexact=customer,
        status=Timesheet.Status.ISSUED,
        start_date__lt=before,
    ).values_list("start_date", "end_date")
    late = Q(pk__in=[])
    for period_start, period_end in periods:
        late |= starts_in_period(
            period_start, min(period_end, before - timedelta(days=1)), user.timezone
        )
    return late


def timesheet_generate(
    *,
    user: User,
    customer: str,
    start: date,
    end: date,
    formats: Iterable[str] = FORMATS,
) -> TimesheetGeneration:
    """Issue a timesheet: bill the period's appointments, lock them, store the files."""
    customer, formats = _generation_request(
        user=user, customer=customer, start=start, end=end, formats=formats
    )
    low, _ = day_bounds_utc(start, end, user.timezone)
    with audit_operation(
        action_type=AuditLog.ActionType.TIMESHEET,
        operation="generate",
        user=user,
        resource_type="Timesheet",
        request_data={"customer": customer, "start": start, "end": end, "formats": formats},
    ) as audit:
        mine = Appointment.objects.filter(user=user, customer__iexact=customer)
        in_period = starts_in_period(start, end, user.timezone)
        conflicts = mine.filter(in_period, overlap_state=Appointment.OverlapState.CONFLICT)
        blocked = conflicts.count()
        with transaction.atomic():
            candidates = (
                mine.billable()
                .unlocked()
                .filter(in_period | _late_items(user, customer, start))
                .select_related("location")
                .defer("ms_event_data")
                .select_for_update(of=("self",))
                .order_by("start_time", "pk")
            )
            appointments = list(candidates)
            if not appointments:
                raise TimesheetError(
                    f"{customer} has no unbilled billable appointments from {start} to {end}: "
                    "there is nothing to issue."
                )
            late = sum(1 for a in appointments if a.start_time < low)
            customer_settings = customer_settings_for(user=user, customer=customer)
            data = timesheet_data(
                user=user,
                customer=customer,
                start=start,
                end=end,
                appointments=appointments,
                customer_settings=customer_settings,
            )
            messages = _generation_messages(late=late, blocked=blocked)
            timesheet = Timesheet(
                user=user,
                customer=customer,
                start_date=start,
                end_date=end,
                notes={"late_items": late, "blocked_by_conflicts": blocked, "messages": messages},
            )
            timesheet.freeze_terms(
                customer_settings, default=BillingProfile.objects.filter(user=user).first()
            )
            timesheet.amount_total = data.amount_total if data.priced else None
            timesheet.save()
            Appointment.objects.filter(pk__in=[a.pk for a in appointments]).update(
                timesheet=timesheet, updated_at=timezone.now()
            )
            _store_files(timesheet, data, formats)
        audit.resource_id = str(timesheet.pk)
        audit.message = (
            f"Timesheet {timesheet.pk} for {customer} {start} to {end}: {len(appointments)} "
            f"appointment(s), {format_hours(data.billable_total)} billable"
        )
        audit.details = {"appointments": len(appointments), "late": late, "blocked": blocked}
        if data.priced:
            audit.details["amount"] = f"{data.amount_total} {data.currency}"
    return TimesheetGeneration(
        timesheet=timesheet,
        data=data,
        late_items=late,
        blocked_by_conflicts=blocked,
        messages=messages,
    )


def _generation_request(
    *, user: User, customer: str, start: date, end: date, formats: Iterable[str]
) -> tuple[str, list[str]]:
    """The customer and formats of a timesheet request, or the error that refuses it (before
    anything is read or written)."""
    customer = (customer or "").strip()
    if not customer:
        raise TimesheetError("Name the customer the timesheet is for.")
    problems = Timesheet.period_errors(start, end)
    if problems:
        raise TimesheetError(next(iter(problems.values())))
    chosen = [fmt for fmt in FORMATS if fmt in set(formats)]
    if not chosen:
        raise TimesheetError("Choose at least one of pdf, csv, xlsx.")
    existing = (
        Timesheet(user=user, customer=customer, start_date=start, end_date=end)
        .issued_overlapping()
        .first()
    )
    if existing is not None:
        raise TimesheetError(existing.already_issued_message())
    return customer, chosen


def _generation_messages(*, late: int, blocked: int) -> list[str]:
    """What the person issuing a timesheet is told about late and left-out appointments."""
    messages = []
    if late:
        messages.append(
            f"{late} appointment(s) archived after their period was billed are included."
        )
    if blocked:
        messages.append(
            f"{blocked} appointment(s) in unresolved overlap conflicts are left out; "
            "resolve them in the action log and bill them in a later timesheet."
        )
    return messages


MAX_FILE_STEM_BYTES = 200


def stored_file_name(data: TimesheetData, fmt: str) -> str:
    """The file's name: the stem with no path separators, cut to fit file systems' 255-byte
    limit (a customer or consultant name may be 255 characters each)."""
    stem = data.file_stem.replace("/", "-").replace("\\", "-")
    stem = stem.encode()[:MAX_FILE_STEM_BYTES].decode(errors="ignore").rstrip()
    return f"{stem}.{fmt}"


def _store_files(timesheet: Timesheet, data: TimesheetData, formats: Iterable[str]) -> None:
    documents = render_documents(data, formats)
    for fmt, content in documents.items():
        old = getattr(timesheet, PATH_FIELDS[fmt])
        name = default_storage.save(
            f"timesheets/{timesheet.user_id}/{timesheet.pk}/{stored_file_name(data, fmt)}",
            ContentFile(content),
        )
        if old and old != name:
            default_storage.delete(old)
        setattr(timesheet, PATH_FIELDS[fmt], name)
    timesheet.save(update_fields=[PATH_FIELDS[fmt] for fmt in documents])


def timesheet_billed(timesheet: Timesheet) -> TimesheetData:
    """The timesheet's data as billed: its linked appointments."""
    appointments = (
        timesheet.appointments.select_related("location")
        .defer("ms_event_data")
        .order_by("start_time", "pk")
    )
    return timesheet_data(
        user=timesheet.user,
        customer=timesheet.customer or "",
        start=timesheet.start_date,
        end=timesheet.end_date,
        appointments=appointments,
        frozen=timesheet,
    )


def timesheet_regenerate_files(*, timesheet: Timesheet, user: User) -> None:
    if timesheet.status == Timesheet.Status.VOID:
        raise TimesheetError("A void timesheet has no files to regenerate.")
    with audit_operation(
        action_type=AuditLog.ActionType.TIMESHEET,
        operation="regenerate",
        user=user,
        resource_type="Timesheet",
        resource_id=timesheet.pk,
    ):
        _store_files(timesheet, timesheet_billed(timesheet), FORMATS)


def timesheet_void(*, timesheet: Timesheet, user: User, void_in_xero: bool = False) -> int:
    """Void an issued timesheet and release its appointments; returns how many.

    A timesheet sent to Xero is voided only once its invoice is deleted or voided there: by
    the user in Xero, or here with `void_in_xero` (audited).
    """
    if timesheet.status == Timesheet.Status.VOID:
        raise TimesheetError(f"Timesheet {timesheet.pk} is already void.")
    if timesheet.xero_invoice_id:
        from timesheets.xero import (
            XeroError,
            timesheet_xero_invoice_void,
            xero_invoice_status,
        )

        try:
            if void_in_xero:
                timesheet_xero_invoice_void(timesheet=timesheet, user=user)
            elif xero_invoice_status(timesheet=timesheet) not in ("DELETED", "VOIDED"):
                raise TimesheetError(
                    f"Timesheet {timesheet.pk} is invoiced in Xero as "
                    f"{timesheet.xero_invoice_number}: delete or void that invoice in Xero "
                    "first, or void the timesheet with 'void in Xero too'."
                )
        except XeroError as error:
            raise TimesheetError(str(error)) from error
    with (
        audit_operation(
            action_type=AuditLog.ActionType.TIMESHEET,
            operation="void",
            user=user,
            resource_type="Timesheet",
            resource_id=timesheet.pk,
        ) as audit,
        transaction.atomic(),
    ):
        released = Appointment.objects.filter(timesheet=timesheet).update(
            timesheet=None, updated_at=timezone.now()
        )
        timesheet.status = Timesheet.Status.VOID
        timesheet.voided_at = timezone.now()
        timesheet.save(update_fields=["status", "voided_at"])
        audit.message = f"Voided timesheet {timesheet.pk}; {released} appointment(s) released"
    return released


def timesheet_file(*, timesheet: Timesheet, fmt: str) -> tuple[str, bytes]:
    """The stored file's download name and content, rendered again if it is missing (from the
    billed rows, which an issued timesheet freezes). A void timesheet's missing file is gone
    (`TimesheetFileGone`); a storage that cannot be read raises `TimesheetStorageError`."""
    if fmt not in PATH_FIELDS:
        raise TimesheetError(f"Unknown format {fmt!r}: use pdf, csv or xlsx.")
    name = getattr(timesheet, PATH_FIELDS[fmt])
    try:
        if name and default_storage.exists(name):
            with default_storage.open(name, "rb") as handle:
                return name.rsplit("/", 1)[-1], handle.read()
    except FileNotFoundError:
        pass  # removed between the two calls, or by another machine: as if never there
    except Exception as error:  # the disk or the object store: not the user's doing
        raise TimesheetStorageError(
            f"The document store cannot be read ({type(error).__name__}); try again shortly."
        ) from error
    if timesheet.status == Timesheet.Status.VOID:
        raise TimesheetFileGone(
            f"Timesheet {timesheet.pk} is void and its {fmt.upper()} file is no longer stored."
        )
    _store_files(timesheet, timesheet_billed(timesheet), [fmt])
    name = getattr(timesheet, PATH_FIELDS[fmt])
    with default_storage.open(name, "rb") as handle:
        return name.rsplit("/", 1)[-1], handle.read()


def onedrive_folder(timesheet: Timesheet) -> str:
    """The upload folder: "/" in the template separates folders; every name is made valid for
    OneDrive, so "A/S" is one folder and "Acme Ltd." loses its trailing dot."""
    customer_settings = customer_settings_for(
        user=timesheet.user, customer=timesheet.customer or ""
    )
    folder = customer_settings.onedrive_folder or settings.ONEDRIVE_FOLDER
    customer = customer_settings.display_name or timesheet.customer or ""
    return onedrive_path(*(part.replace("{customer}", customer) for part in folder.split("/")))


def timesheet_upload_onedrive(*, timesheet: Timesheet, user: User) -> list[str]:
    """Upload the timesheet's files to the owner's OneDrive; a failure opens an action item."""
    if timesheet.status == Timesheet.Status.VOID:
        raise TimesheetError("A void timesheet cannot be uploaded.")
    folder = onedrive_folder(timesheet).strip("/")
    uploaded: list[str] = []
    try:
        with audit_operation(
            action_type=AuditLog.ActionType.TIMESHEET,
            operation="upload_onedrive",
            user=user,
            resource_type="Timesheet",
            resource_id=timesheet.pk,
        ) as audit:
            client = graph_client(user=timesheet.user)
            web_url = None
            for fmt in FORMATS:
                name, content = timesheet_file(timesheet=timesheet, fmt=fmt)
                name = onedrive_name(name)
                item = client.upload_file(f"{folder}/{name}", content)
                web_url = web_url or item.get("webUrl")
                uploaded.append(f"{folder}/{name}")
            timesheet.uploaded_to_onedrive = True
            timesheet.onedrive_url = web_url
            timesheet.save(update_fields=["uploaded_to_onedrive", "onedrive_url"])
            audit.message = f"Uploaded {len(uploaded)} file(s) to OneDrive {folder}"
            audit.details = {"files": uploaded}
    except Exception as error:
        _upload_failed(timesheet, error)
        raise
    for item in ActionLog.objects.filter(
        user=timesheet.user, event_type=ActionLog.EventType.UPLOAD_FAILED, key=str(timesheet.pk)
    ).open():
        item.close(by=user, note="uploaded on retry")
    return uploaded


def _upload_failed(timesheet: Timesheet, error: BaseException) -> None:
    ActionLog.objects.open_item(
        user=timesheet.user,
        event_type=ActionLog.EventType.UPLOAD_FAILED,
        key=timesheet.pk,
        description=f"Uploading timesheet {timesheet} to OneDrive failed",
        details={"timesheet": timesheet.pk, "error": str(error)[:500]},
        recommendations=["Retry with 'Upload to OneDrive' on the timesheet."],
    )


@dataclass
class CustomerHours:
    """One customer's hours over a period, as the timesheet for it would bill them."""

    data: TimesheetData
    first_day: date
    last_day: date

    @property
    def customer(self) -> str:
        return self.data.customer

    @property
    def billable(self) -> Decimal:
        return self.data.effort_billable_total

    @property
    def non_billable(self) -> Decimal:
        return self.data.effort_total - self.data.effort_billable_total

    @property
    def travel(self) -> Decimal:
        return self.data.travel_total

    @property
    def total(self) -> Decimal:
        return self.data.effort_total + self.data.travel_total

    @property
    def billable_total(self) -> Decimal:
        return self.data.billable_total

    @property
    def amount(self) -> Decimal | None:
        # Rates per customer arrive with the Xero work (issue 13); until then only hours.
        return None


def customer_hours(
    *, user: User, appointments: AppointmentQuerySet, start: date | None = None
) -> list[CustomerHours]:
    """Hours per customer of the billable appointments given, computed by `timesheet_rows` with
    each customer's travel rate and rounding: the same figures a timesheet shows.

    Two queries however many appointments: the rows are read as plain values, one pass."""
    by_customer: dict[str, list[tuple]] = {}
    names: dict[str, str] = {}
    for customer, *values in (
        appointments.billable()
        .order_by()
        .values_list("customer", *ITEM_COLUMNS)
        .iterator(chunk_size=5000)
    ):
        key = customer.strip().lower()
        names.setdefault(key, customer.strip())
        by_customer.setdefault(key, []).append(values)
    customer_settings = {
        row.customer.strip().lower(): row for row in CustomerSettings.objects.filter(user=user)
    }
    zone = zoneinfo.ZoneInfo(user.timezone)
    result = []
    for key, rows in by_customer.items():
        found = customer_settings.get(key)
        items = [billing_item(*values) for values in rows]
        effort, travel = timesheet_rows(
            items,
            timezone=user.timezone,
            travel_rate=found.travel_rate if found else DEFAULT_TRAVEL_RATE,
            rounding=found.rounding() if found else Rounding(),
        )
        days = [item.start.astimezone(zone).date() for item in items]
        result.append(
            CustomerHours(
                data=TimesheetData(
                    customer=names[key],
                    customer_display_name=(found.display_name if found else "") or names[key],
                    consultant=user.name or user.email,
                    report_date=today_in(zone),
                    start_date=start or min(days),
                    end_date=max(days),
                    effort_rows=effort,
                    travel_rows=travel,
                ),
                first_day=min(days),
                last_day=max(days),
            )
        )
    result.sort(key=lambda hours: (-hours.total, hours.customer.lower()))
    return result


def period_customer_hours(*, user: User, start: date, end: date) -> list[CustomerHours]:
    """The period's hours per customer (billed or not), as timesheets for it would show."""
    appointments = Appointment.objects.filter(user=user).in_period(start, end, user.timezone)
    return customer_hours(user=user, appointments=appointments, start=start)


def unbilled_customer_hours(*, user: User) -> list[CustomerHours]:
    """Archived appointments on no issued timesheet, per customer."""
    appointments = Appointment.objects.filter(user=user, is_archived=True).unlocked()
    return customer_hours(user=user, appointments=appointments)


def appointment_billing(appointment: Appointment) -> str:
    """What a timesheet would make of the appointment, in words: why it is left out, or its
    row's hours and billable hours by the customer's settings."""
    reasons = {
        "shown as free": appointment.show_as == Appointment.ShowAs.FREE,
        "cancelled": appointment.is_cancelled,
        "out of office": appointment.is_out_of_office,
        "no customer": not (appointment.customer or "").strip(),
        f"overlap {appointment.overlap_state}": appointment.overlap_state
        in Appointment.UNBILLED_OVERLAP_STATES,
    }
    left_out = [reason for reason, applies in reasons.items() if applies]
    if left_out:
        return f"Not billed: {', '.join(left_out)}."
    if not (appointment.start_time and appointment.end_time and appointment.user_id):
        return "Not billed yet: no times."
    found = CustomerSettings.objects.filter(
        user_id=appointment.user_id, customer__iexact=(appointment.customer or "").strip()
    ).first()
    (item,) = billing_items([appointment])
    effort, travel = timesheet_rows(
        [item],
        timezone=appointment.user.timezone,
        travel_rate=found.travel_rate if found else DEFAULT_TRAVEL_RATE,
        rounding=found.rounding() if found else Rounding(),
    )
    if travel:
        trip = travel[0]
        return (
            f"Travel for {appointment.customer}: {format_hours(trip.duration)}, "
            f"{format_hours(trip.billable)} billable."
        )
    work = effort[0]
    return (
        f"Effort for {appointment.customer}: {format_hours(work.effort)}, "
        f"{format_hours(work.billable)} billable."
    )
