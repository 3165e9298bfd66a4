"""The bare floor the API benchmark measures every list against, served by the same gunicorn.

`benchmarks/api.py` starts gunicorn with `floor_settings` (the app's settings, this URL conf):
every URL of the app, plus `/floor/<list>/` views that answer the same page as the API list
with the least Django can do: the same middleware, the same API token authentication, the same
SQL (`values()` of the same columns, the same filter, order and page), and a `JsonResponse`.
What the API costs above this is DRF, its serializers, filters, pagination, throttle and
renderer: the part we own.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.admin.models import LogEntry
from django.core.paginator import Paginator
from django.db.models import Count, F, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import Context, Template
from django.urls import include, path
from rest_framework.exceptions import AuthenticationFailed

from accounts.authentication import ApiTokenAuthentication
from accounts.models import User
from archiving.models import ArchiveConfiguration, ArchiveCopy, ArchiveRun, JobConfiguration
from archiving.run_status import latest_audited_runs, latest_finished_runs
from auditing.models import ActionLog, AuditLog
from calendars.models import Appointment, Category
from foundations.days import today_in
from foundations.figures import format_money
from timesheets.billing import period_label
from timesheets.models import BillingProfile, CustomerSettings, Timesheet
from timesheets.selectors import hours_groups, period_appointments, unbilled_appointments

PAGE = 50

APPOINTMENT_COLUMNS = [
    "id",
    "user_id",
    "subject",
    "start_time",
    "end_time",
    "is_all_day",
    "customer",
    "billing_type",
    "billable_override",
    "is_travel",
    "category_id",
    "categories",
    "timesheet_id",
    "overlap_state",
    "overlap_reason",
    "calendar_id",
    "location_id",
    "show_as",
    "importance",
    "sensitivity",
    "is_private",
    "is_out_of_office",
    "is_archived",
    "is_cancelled",
    "source_deleted_at",
    "ms_event_id",
    "recurrence",
    "created_at",
    "updated_at",
]
TIMESHEET_COLUMNS = [
    "id",
    "user_id",
    "customer",
    "start_date",
    "end_date",
    "status",
    "voided_at",
    "uploaded_to_onedrive",
    "uploaded_to_xero",
    "onedrive_url",
    "currency",
    "hourly_rate",
    "travel_hourly_rate",
    "amount_total",
    "xero_invoice_id",
    "xero_invoice_number",
    "xero_invoice_url",
    "notes",
    "created_at",
]
ACTION_COLUMNS = [
    "id",
    "user_id",
    "event_type",
    "state",
    "description",
    "details",
    "recommendations",
    "key",
    "closed_at",
    "closed_by_id",
    "resolution",
    "created_at",
    "updated_at",
]
AUDIT_COLUMNS = [
    "id",
    "user_id",
    "action_type",
    "operation",
    "status",
    "resource_type",
    "resource_id",
    "message",
    "details",
    "request_data",
    "response_data",
    "duration_ms",
    "ip_address",
    "user_agent",
    "correlation_id",
    "parent_audit_id",
    "created_at",
]


def signed_in(request: HttpRequest) -> User | JsonResponse:
    """The API's own token authentication, called directly."""
    try:
        found = ApiTokenAuthentication().authenticate(request)  # type: ignore[arg-type]
    except AuthenticationFailed as error:
        return JsonResponse({"detail": str(error.detail)}, status=401)
    if found is None:
        return JsonResponse({"detail": "Authentication credentials were not provided."}, status=401)
    return found[0]


def cursor_page(
    request: HttpRequest, rows: QuerySet, field: str, *, descending: bool = False
) -> dict[str, Any]:
    """A keyset page: `?after=<position>` continues after that value of `field`."""
    after = request.GET.get("after")
    if after:
        lookup = "lt" if descending else "gt"
        rows = rows.filter(**{f"{field}__{lookup}": datetime.fromisoformat(after)})
    page = list(rows[: PAGE + 1])
    more = len(page) > PAGE
    page = page[:PAGE]
    return {
        "next": f"?after={page[-1][field].isoformat()}" if more else None,
        "previous": None,
        "results": page,
    }


def number_page(request: HttpRequest, rows: QuerySet) -> dict[str, Any]:
    number = int(request.GET.get("page", "1"))
    count = rows.count()
    page = list(rows[(number - 1) * PAGE : number * PAGE])
    return {"count": count, "next": None, "previous": None, "results": page}


def instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def appointments(request: HttpRequest) -> JsonResponse:
    user = signed_in(request)
    if isinstance(user, JsonResponse):
        return user
    rows = Appointment.objects.filter(user=user).order_by("start_time", "id")
    if "start" in request.GET:
        rows = rows.filter(start_time__gte=instant(request.GET["start"]))
    if "end" in request.GET:
        rows = rows.filter(start_time__lt=instant(request.GET["end"]))
    body = cursor_page(request, rows.values(*APPOINTMENT_COLUMNS), "start_time")
    copies = defaultdict(list)
    for copy in (
        ArchiveCopy.objects.filter(appointment_id__in=[row["id"] for row in body["results"]])
        .order_by("appointment_id", "destination_id")
        .values(
            "appointment_id",
            "destination_id",
            "destination__name",
            "event_id",
            "created_at",
            "updated_at",
        )
    ):
        copies[copy.pop("appointment_id")].append(copy)
    for row in body["results"]:
        row["locked"] = row["timesheet_id"] is not None
        row["archive_copies"] = copies[row["id"]]
    return JsonResponse(body)


def timesheets(request: HttpRequest) -> JsonResponse:
    user = signed_in(request)
    if isinstance(user, JsonResponse):
        return user
    rows = Timesheet.objects.filter(user=user).order_by("-start_date", "-id")
    body = number_page(request, rows.values(*TIMESHEET_COLUMNS))
    files = request.build_absolute_uri("/api/v1/timesheets/")
    for row in body["results"]:
        row["period"] = period_label(row["start_date"], row["end_date"], user.timezone)
        row["files"] = {fmt: f"{files}{row['id']}/{fmt}/" for fmt in ("pdf", "csv", "xlsx")}
        money = row["amount_total"] is not None and row["currency"]
        row["amount"] = format_money(row["amount_total"], row["currency"]) if money else None
    return JsonResponse(body)


def action_log(request: HttpRequest) -> JsonResponse:
    user = signed_in(request)
    if isinstance(user, JsonResponse):
        return user
    rows = ActionLog.objects.filter(user=user).order_by("-created_at", "-id")
    body = number_page(request, rows.values(*ACTION_COLUMNS))
    # The rows the API's `at_stake` is priced from (timesheets.attention.items_at_stake), read
    # the same way (no query where no item names an appointment or a timesheet), unpriced.
    details = [row["details"] or {} for row in body["results"]]
    wanted = {d["appointment"] for d in details if isinstance(d.get("appointment"), int)}
    wanted |= {m["id"] for d in details for m in d.get("appointments", []) if "id" in m}
    sheets = [d["timesheet"] for d in details if d.get("timesheet")]
    body["stake_rows"] = {
        "appointments": list(
            Appointment.objects.filter(pk__in=wanted).values(
                "pk", "user_id", "start_time", "end_time", "customer"
            )
        ),
        "terms": list(CustomerSettings.objects.filter(user_id=user.pk).values()),
        "defaults": list(BillingProfile.objects.filter(user_id=user.pk).values()),
        "timesheets": list(Timesheet.objects.filter(pk__in=sheets).values(*TIMESHEET_COLUMNS)),
    }
    return JsonResponse(body)


def audit_log(request: HttpRequest) -> JsonResponse:
    user = signed_in(request)
    if isinstance(user, JsonResponse):
        return user
    rows = AuditLog.objects.filter(user=user).order_by("-created_at", "-id")
    return JsonResponse(
        cursor_page(request, rows.values(*AUDIT_COLUMNS), "created_at", descending=True)
    )


ROWS = Template(
    "<table>{% for row in rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}"
    "</tr>{% endfor %}</table><p>Page 1 of {{ pages }}: {{ count }} rows</p>"
)


def admin_rows(request: HttpRequest, rows: QuerySet, columns: list[str]) -> HttpResponse:
    """The admin change list's floor: the first page of 100 rows through the ORM (model
    instances and their related rows, as the change list reads them), each column as text, in
    one table, under the number of rows and pages. A paginated list cannot show its page
    numbers without counting its rows: Django's Paginator counts them here as the change list's
    own does (one COUNT, the admin's `show_full_result_count` being off)."""
    if not request.user.is_authenticated or not request.user.is_staff:
        return HttpResponse(status=302)
    paginator = Paginator(rows, 100)
    page = paginator.page(1)
    cells = [[getattr(row, column) for column in columns] for row in page.object_list]
    context = {"rows": cells, "count": paginator.count, "pages": paginator.num_pages}
    body = ROWS.render(Context(context))
    return HttpResponse(body)


def admin_appointments(request: HttpRequest) -> HttpResponse:
    rows = (
        Appointment.objects.filter(user_id=request.user.pk)
        .select_related("user", "location", "category", "timesheet", "calendar")
        .order_by("-start_time", "-id")
    )
    columns = ["start_time", "end_time", "subject", "customer", "billing_type", "show_as"]
    columns += ["category", "location", "is_private", "is_out_of_office", "is_archived"]
    return admin_rows(request, rows, [*columns, "source_deleted_at", "timesheet", "user"])


def admin_archive_runs(request: HttpRequest) -> HttpResponse:
    rows = (
        ArchiveRun.objects.filter(configuration__user_id=request.user.pk)
        .select_related("configuration")
        .order_by("-queued_at", "-id")
    )
    columns = ["configuration", "kind", "start", "end", "status", "queued_at", "finished_at"]
    return admin_rows(request, rows, columns)


READS = Template("<ul>{% for count in reads %}<li>{{ count }} rows</li>{% endfor %}</ul>")


def _held_ids(details: Any) -> list[int]:
    """The appointment ids an open item's details name (an overlap its members, the others
    one), as the amount at stake reads them."""
    named = [row.get("id") for row in details.get("appointments") or [] if isinstance(row, dict)]
    return [pk for pk in [*named, details.get("appointment")] if isinstance(pk, int)]


def admin_dashboard(request: HttpRequest) -> HttpResponse:
    """The home page's floor: the page's reads through the ORM with `values()`, under the same
    middleware and session, each read's number of rows printed. The reads are the page's own:
    this month's and the unbilled appointments counted in groups that bill alike
    (`hours_groups`, what pricing reads), the customer settings, default rate and categories
    that price them; the open items by kind; the open items and the appointments they hold
    back (the amount at stake); the archive configurations with their latest recorded and
    audited runs and their active schedules (archive health); open reconnect items
    (connections); the recent actions. Nothing is priced, summed, formatted or linked: what the
    page's figures cost to read."""
    if not request.user.is_authenticated or not request.user.is_staff:
        return HttpResponse(status=302)
    user = request.user
    first = today_in(user.timezone).replace(day=1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    open_items = ActionLog.objects.filter(user=user, state=ActionLog.State.OPEN).order_by()
    items = list(open_items.values("pk", "event_type", "details", "recommendations__0"))
    held = [pk for item in items for pk in _held_ids(item["details"] or {})]
    configurations = list(ArchiveConfiguration.objects.filter(user=user).order_by("name").values())
    ids = [row["id"] for row in configurations]
    tables = [
        list(hours_groups(period_appointments(user=user, start=first, end=last))),
        list(hours_groups(unbilled_appointments(user=user))),
        list(CustomerSettings.objects.filter(user=user).order_by().values()),
        list(BillingProfile.objects.filter(user=user).order_by("id").values()[:1]),
        list(Category.objects.filter(user=user).order_by().values("name", "is_internal")),
        list(open_items.values("event_type").annotate(count=Count("id")).order_by("event_type")),
        items,
        list(
            Appointment.objects.filter(pk__in=held)
            .annotate(duration=F("end_time") - F("start_time"))
            .values("pk", "user_id", "duration", "customer")
        ),
        configurations,
        list(latest_finished_runs(ids).values()),
        list(
            latest_audited_runs(ids).values(
                "id", "resource_id", "status", "message", "correlation_id", "created_at"
            )
        ),
        list(
            JobConfiguration.objects.filter(archive_configuration_id__in=ids, is_active=True)
            .order_by()
            .values()
        ),
        list(
            ActionLog.objects.filter(
                user=user,
                state=ActionLog.State.OPEN,
                event_type=ActionLog.EventType.RECONNECT_MICROSOFT,
            ).values("user_id")
        ),
        list(LogEntry.objects.filter(user=user).order_by("-action_time").values()[:10]),
    ]
    body = READS.render(Context({"reads": [len(rows) for rows in tables]}))
    return HttpResponse(body)


urlpatterns = [
    path("floor/admin/dashboard/", admin_dashboard),
    path("floor/admin/appointments/", admin_appointments),
    path("floor/admin/archive-runs/", admin_archive_runs),
    path("floor/appointments/", appointments),
    path("floor/timesheets/", timesheets),
    path("floor/action-log/", action_log),
    path("floor/audit-log/", audit_log),
    path("", include("adminassistant.urls")),
]
