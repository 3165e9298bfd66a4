from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.formats import localize
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timezone import localtime
from django.views.decorators.http import require_POST

from calendars.fields import (
    APPOINTMENT_BILLING,
    APPOINTMENT_OUTLOOK,
    APPOINTMENT_STAMPS,
    APPOINTMENT_WHEN,
)
from calendars.forms import AppointmentForm
from calendars.models import (
    Appointment,
    AppointmentFeature,
    AppointmentQuerySet,
    Calendar,
    Category,
    Location,
)
from calendars.services import categories_sync
from foundations.admin import OwnedModelAdmin, ReadOnlyAdminMixin
from foundations.days import EN_DASH, clock_label, day_label, short_period
from foundations.graph import microsoft_problem
from foundations.requests import AuthenticatedHttpRequest


@admin.register(Calendar)
class CalendarAdmin(OwnedModelAdmin[Calendar]):
    list_display = ["name", "user", "is_archive", "ms_calendar_id", "updated_at"]
    list_filter = ["is_archive", "user"]
    search_fields = ["name", "description", "ms_calendar_id"]
    list_select_related = ["user"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Location)
class LocationAdmin(OwnedModelAdmin[Location]):
    list_display = ["name", "address", "user"]
    list_filter = ["user"]
    search_fields = ["name", "address"]
    list_select_related = ["user"]


@admin.register(Category)
class CategoryAdmin(OwnedModelAdmin[Category]):
    list_display = ["name", "color", "is_internal", "description", "user"]
    list_filter = ["is_internal", "color", "user"]
    search_fields = ["name", "description"]
    list_select_related = ["user"]

    def get_urls(self) -> list:
        return [
            path(
                "sync/",
                self.admin_site.admin_view(require_POST(self.sync_view)),
                name="calendars_category_sync",
            ),
            *super().get_urls(),
        ]

    def sync_view(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        """Sync the signed-in user's own Outlook categories."""
        try:
            result = categories_sync(user=request.user)
        except Exception as error:
            problem = microsoft_problem(error)
            if problem is None:
                raise
            messages.error(request, f"Categories were not synced: {problem}")
        else:
            messages.success(request, f"Outlook categories synced: {result}.")
        return HttpResponseRedirect(reverse("admin:calendars_category_changelist"))


@admin.register(Appointment)
class AppointmentAdmin(OwnedModelAdmin[Appointment]):
    # Fourteen fields in six columns, so the list fits its box at 1280 px beside the sidebar: the
    # times under the day, the place (and, for a superuser, the owner) under the subject, the
    # billing type under the customer (the category says no more than those two), and what is
    # unusual about an appointment as words (each still has its filter).
    list_display = [
        "when",
        "subject_and_place",
        "customer_and_type",
        "flags",
        "timesheet_period",
        "user",
    ]
    list_filter = [
        ("source_deleted_at", admin.EmptyFieldListFilter),
        "billing_type",
        "show_as",
        "importance",
        "is_archived",
        "is_private",
        "is_out_of_office",
        "is_all_day",
        "user",
    ]
    search_fields = ["subject", "customer", "ms_event_id", "location__name", "category__name"]
    date_hierarchy = "start_time"
    ordering = ["-start_time", "-id"]
    list_select_related = ["user", "location", "category", "timesheet", "calendar"]
    autocomplete_fields = ["location", "category"]
    raw_id_fields = ["timesheet"]
    form = AppointmentForm
    readonly_fields = [
        "ms_event_data",
        "billed_on",
        "source_deleted_at",
        "archive_copies_list",
        "created_at",
        "updated_at",
    ]
    show_full_result_count = False
    list_per_page = 100
    # The timesheets app adds the "Export timesheet" actions and the "What a timesheet bills"
    # field (after `categories`) through admin_extension_add: calendars sits below timesheets.
    fieldsets = [
        (None, {"fields": list(APPOINTMENT_WHEN)}),
        ("Billing", {"fields": ["billed_on", *APPOINTMENT_BILLING]}),
        ("Outlook", {"fields": [*APPOINTMENT_OUTLOOK, "archive_copies_list"]}),
        ("Raw data", {"classes": ["collapse"], "fields": ["ms_event_data", *APPOINTMENT_STAMPS]}),
    ]

    def get_form(
        self,
        request: HttpRequest,
        obj: Appointment | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[ModelForm]:
        form_class = super().get_form(request, obj, change, **kwargs)
        if issubclass(form_class, AppointmentForm):
            # A new appointment's categories come from the person adding it.
            form_class.categories_owner_id = request.user.pk
        return form_class

    @admin.display(description="Billed on")
    def billed_on(self, obj: Appointment) -> str:
        if not obj.is_locked:
            return "Not billed yet."
        url = reverse("admin:timesheets_timesheet_change", args=[obj.timesheet_id])
        return format_html(
            '<a href="{}">{}</a>: this appointment is locked until that timesheet is void.',
            url,
            obj.timesheet,
        )

    @admin.display(description="gone from Outlook", boolean=True, ordering="source_deleted_at")
    def gone_from_source(self, obj: Appointment) -> bool:
        return obj.source_deleted_at is not None

    def get_list_display(self, request: HttpRequest) -> Any:
        columns = list(super().get_list_display(request))
        if self.owner_field in columns:  # a superuser's: the owner under the subject
            columns.remove(self.owner_field)
            columns[columns.index("subject_and_place")] = "subject_place_and_owner"
        return columns

    def get_list_display_links(self, request: HttpRequest, list_display: Any) -> Any:
        return ["when"]

    @admin.display(description="When", ordering="start_time")
    def when(self, obj: Appointment) -> SafeString:
        """The day, and under it the times (or "all day"), in the viewer's zone."""
        start, end = localtime(obj.start_time), localtime(obj.end_time)
        day = day_label(start.date())
        if obj.is_all_day:
            last = (end - timedelta(microseconds=1)).date()
            hours = f"all day, to {day_label(last)}" if last > start.date() else "all day"
        elif start.date() == end.date():
            hours = f"{clock_label(start.time())} {EN_DASH} {clock_label(end.time())}"
        else:
            hours = f"{clock_label(start.time())} {EN_DASH} {localize(end)}"
        return format_html('{}<span class="list-owner">{}</span>', day, hours)

    @admin.display(description="Subject", ordering="subject")
    def subject_and_place(self, obj: Appointment) -> SafeString:
        return self._subject(obj, owner=False)

    @admin.display(description="Subject", ordering="subject")
    def subject_place_and_owner(self, obj: Appointment) -> SafeString:
        return self._subject(obj, owner=True)

    def _subject(self, obj: Appointment, *, owner: bool) -> SafeString:
        lines = [str(obj.location)] if obj.location_id else []
        if owner:
            lines.append(str(obj.user))
        return format_html(
            "{}{}",
            obj.subject or "(no subject)",
            format_html_join("", '<span class="list-owner">{}</span>', ((line,) for line in lines)),
        )

    @admin.display(description="Customer", ordering="customer")
    def customer_and_type(self, obj: Appointment) -> SafeString | str:
        """The customer and, under it, its billing type; a category that names no customer is
        shown as it is."""
        if obj.customer:
            return format_html(
                '{}<span class="list-owner">{}</span>', obj.customer, obj.get_billing_type_display()
            )
        if obj.category_id:
            return format_html('-<span class="list-owner">{}</span>', obj.category)
        return "-"

    @admin.display(description="Flags")
    def flags(self, obj: Appointment) -> SafeString:
        """What sets the appointment apart, in words: how it shows when not busy, private, out of
        office, not (yet) archived, gone from Outlook."""
        words = [
            *([obj.get_show_as_display()] if obj.show_as != Appointment.ShowAs.BUSY else []),
            *(["Private"] if obj.is_private else []),
            *(["Out of office"] if obj.is_out_of_office else []),
            *(["Not archived"] if not obj.is_archived else []),
            *(["Gone from Outlook"] if obj.source_deleted_at is not None else []),
        ]
        return format_html_join(
            "", '<span class="list-flag">{}</span>', ((word,) for word in dict.fromkeys(words))
        )

    @admin.display(description="Timesheet", ordering="timesheet__start_date")
    def timesheet_period(self, obj: Appointment) -> SafeString | str:
        if obj.timesheet_id is None or obj.timesheet is None:
            return "-"
        period = short_period(obj.timesheet.start_date, obj.timesheet.end_date)
        url = reverse("admin:timesheets_timesheet_change", args=[obj.timesheet_id])
        return format_html('<a href="{}">{}</a>', url, period)

    @admin.display(description="archive copies")
    def archive_copies_list(self, obj: Appointment) -> str:
        if obj.pk is None:
            return "-"
        copies = obj.archive_copies.select_related("destination").order_by("destination__name")
        if not copies:
            return "None yet"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} — event {} (copied {}, updated {})</li>",
                (
                    (
                        copy.destination.name,
                        copy.event_id[:24] + "…",
                        f"{copy.created_at:%d %b %Y %H:%M}",
                        f"{copy.updated_at:%d %b %Y %H:%M}",
                    )
                    for copy in copies
                ),
            ),
        )

    def has_change_permission(self, request: HttpRequest, obj: Appointment | None = None) -> bool:
        # Billed on an issued timesheet: the page shows it read-only and a posted form is
        # refused, so not even an unchanged save touches it; void the timesheet to change it.
        if obj is not None and obj.is_locked:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Appointment | None = None) -> bool:
        if obj is not None and obj.is_locked:
            return False
        return super().has_delete_permission(request, obj)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)
        if obj is not None and obj.is_locked and request.method == "GET":
            messages.info(
                request,
                f"Billed on timesheet “{obj.timesheet}”: read-only until that timesheet is void.",
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
        # The changelist's rows come from Appointment's manager: an AppointmentQuerySet.
        queryset = cast(AppointmentQuerySet, queryset)
        locked = queryset.locked().count()
        if locked:
            messages.warning(
                request, f"{locked} billed appointment(s) were kept: void their timesheet first."
            )
        super().delete_queryset(request, queryset.unlocked())


@admin.register(AppointmentFeature)
class AppointmentFeatureAdmin(ReadOnlyAdminMixin, OwnedModelAdmin[AppointmentFeature]):
    """The evidence the category suggestions count (written by archive runs)."""

    list_display = ["appointment", "feature", "user"]
    search_fields = ["feature"]
    list_select_related = ["appointment", "user"]
