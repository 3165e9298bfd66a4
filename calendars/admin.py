from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from accounts.microsoft import microsoft_problem
from adminassistant.admin import OwnedModelAdmin
from calendars.models import Appointment, Calendar, Category, Location
from calendars.services import categories_sync


@admin.register(Calendar)
class CalendarAdmin(OwnedModelAdmin):
    list_display = ["name", "user", "is_archive", "ms_calendar_id", "updated_at"]
    list_filter = ["is_archive", "user"]
    search_fields = ["name", "description", "ms_calendar_id"]
    list_select_related = ["user"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Location)
class LocationAdmin(OwnedModelAdmin):
    list_display = ["name", "address", "user"]
    list_filter = ["user"]
    search_fields = ["name", "address"]
    list_select_related = ["user"]


@admin.register(Category)
class CategoryAdmin(OwnedModelAdmin):
    list_display = ["name", "color", "description", "user"]
    list_filter = ["color", "user"]
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

    def sync_view(self, request: HttpRequest) -> HttpResponse:
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
class AppointmentAdmin(OwnedModelAdmin):
    list_display = [
        "start_time",
        "end_time",
        "subject",
        "customer",
        "billing_type",
        "show_as",
        "category",
        "location",
        "is_private",
        "is_out_of_office",
        "is_archived",
        "timesheet",
        "user",
    ]
    list_filter = [
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
    readonly_fields = ["created_at", "updated_at"]
    show_full_result_count = False
    list_per_page = 100
    fieldsets = [
        (None, {"fields": ["user", "subject", "start_time", "end_time", "is_all_day"]}),
        (
            "Billing",
            {"fields": ["customer", "billing_type", "category", "categories", "timesheet"]},
        ),
        (
            "Outlook",
            {
                "fields": [
                    "calendar",
                    "location",
                    "show_as",
                    "importance",
                    "sensitivity",
                    "is_private",
                    "is_out_of_office",
                    "is_archived",
                    "ms_event_id",
                    "recurrence",
                ]
            },
        ),
        (
            "Raw data",
            {"classes": ["collapse"], "fields": ["ms_event_data", "created_at", "updated_at"]},
        ),
    ]
