from __future__ import annotations

from django.contrib import admin

from adminassistant.admin import OwnedModelAdmin
from timesheets.models import Timesheet


@admin.register(Timesheet)
class TimesheetAdmin(OwnedModelAdmin):
    list_display = [
        "__str__",
        "customer",
        "start_date",
        "end_date",
        "uploaded_to_onedrive",
        "uploaded_to_xero",
        "created_at",
        "user",
    ]
    list_filter = ["customer", "uploaded_to_onedrive", "uploaded_to_xero", "user"]
    search_fields = ["customer", "pdf_path", "csv_path", "excel_path"]
    date_hierarchy = "start_date"
    list_select_related = ["user"]
    readonly_fields = ["created_at"]
