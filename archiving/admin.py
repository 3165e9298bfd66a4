from __future__ import annotations

from django.contrib import admin

from adminassistant.admin import OwnedModelAdmin
from archiving.models import ArchiveConfiguration, JobConfiguration


@admin.register(ArchiveConfiguration)
class ArchiveConfigurationAdmin(OwnedModelAdmin):
    list_display = [
        "name",
        "source_calendar_uri",
        "destination_calendar_uri",
        "timezone",
        "is_active",
        "allow_overlaps",
        "user",
    ]
    list_filter = ["is_active", "allow_overlaps", "timezone", "user"]
    search_fields = ["name", "source_calendar_uri", "destination_calendar_uri"]
    list_select_related = ["user"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(JobConfiguration)
class JobConfigurationAdmin(OwnedModelAdmin):
    list_display = [
        "__str__",
        "archive_configuration",
        "schedule_type",
        "schedule_hour",
        "schedule_minute",
        "schedule_day_of_week",
        "archive_window_days",
        "is_active",
        "user",
    ]
    list_filter = ["schedule_type", "is_active", "user"]
    search_fields = ["archive_configuration__name"]
    list_select_related = ["user", "archive_configuration"]
    autocomplete_fields = ["archive_configuration"]
    readonly_fields = ["created_at", "updated_at"]
