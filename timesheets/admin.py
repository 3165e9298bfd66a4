from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import admin, messages
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from accounts.microsoft import microsoft_problem
from adminassistant.admin import OwnedModelAdmin
from calendars.models import Appointment
from timesheets.billing import format_hours
from timesheets.exports import export_state
from timesheets.forms import GenerateTimesheetForm
from timesheets.models import CustomerSettings, Timesheet
from timesheets.services import (
    CONTENT_TYPES,
    TimesheetError,
    timesheet_file,
    timesheet_generate,
    timesheet_regenerate_files,
    timesheet_upload_onedrive,
    timesheet_void,
)


def file_response(name: str, content: bytes, fmt: str) -> HttpResponse:
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


@admin.register(Timesheet)
class TimesheetAdmin(OwnedModelAdmin):
    list_display = [
        "__str__",
        "customer",
        "start_date",
        "end_date",
        "status",
        "uploaded_to_onedrive",
        "uploaded_to_xero",
        "created_at",
        "user",
    ]
    list_filter = ["status", "customer", "uploaded_to_onedrive", "uploaded_to_xero", "user"]
    search_fields = ["customer", "pdf_path", "csv_path", "excel_path"]
    date_hierarchy = "start_date"
    list_select_related = ["user"]
    readonly_fields = [
        "status",
        "pdf_path",
        "csv_path",
        "excel_path",
        "uploaded_to_onedrive",
        "uploaded_to_xero",
        "onedrive_url",
        "voided_at",
        "notes",
        "created_at",
    ]
    actions = [
        "regenerate_files",
        "download_pdf",
        "download_csv",
        "download_xlsx",
        "upload_onedrive",
        "void",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Timesheets are issued through "Generate timesheet", which bills and locks.
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An issued timesheet is voided, never deleted: the audit trail must add up.
        return False

    def get_urls(self) -> list:
        return [
            path(
                "generate/",
                self.admin_site.admin_view(self.generate_view),
                name="timesheets_timesheet_generate",
            ),
            path(
                "exports/<str:export_id>/",
                self.admin_site.admin_view(self.export_progress_view),
                name="timesheets_export_progress",
            ),
            path(
                "exports/<str:export_id>/download/",
                self.admin_site.admin_view(self.export_download_view),
                name="timesheets_export_download",
            ),
            path(
                "<int:pk>/download/<str:fmt>/",
                self.admin_site.admin_view(self.download_view),
                name="timesheets_timesheet_download",
            ),
            path(
                "<int:pk>/upload-onedrive/",
                self.admin_site.admin_view(require_POST(self.upload_view)),
                name="timesheets_timesheet_upload",
            ),
            path(
                "<int:pk>/void/",
                self.admin_site.admin_view(require_POST(self.void_view)),
                name="timesheets_timesheet_void",
            ),
            *super().get_urls(),
        ]

    def generate_view(self, request: HttpRequest) -> HttpResponse:
        customers = sorted(
            set(
                Appointment.objects.for_user(request.user)
                .exclude(customer__isnull=True)
                .values_list("customer", flat=True)
                .distinct()
            )
        )
        form = GenerateTimesheetForm(
            request.POST or None, request_user=request.user, customers=customers
        )
        if request.method == "POST" and form.is_valid():
            try:
                generation = timesheet_generate(
                    user=form.owner(),
                    customer=form.cleaned_data["customer"],
                    start=form.cleaned_data["start"],
                    end=form.cleaned_data["end"],
                )
            except TimesheetError as error:
                form.add_error(None, str(error))
            else:
                timesheet = generation.timesheet
                rows = len(generation.data.effort_rows) + len(generation.data.travel_rows)
                self.message_user(
                    request,
                    f"Timesheet issued for {generation.data.period}: {rows} row(s), "
                    f"{format_hours(generation.data.billable_total)} billable.",
                    messages.SUCCESS,
                )
                for note in generation.messages:
                    self.message_user(request, note, messages.WARNING)
                return HttpResponseRedirect(
                    reverse("admin:timesheets_timesheet_change", args=[timesheet.pk])
                )
        return TemplateResponse(
            request,
            "admin/timesheets/timesheet/generate.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "form": form,
                "customers": customers,
                "title": "Generate timesheet",
            },
        )

    def _export(self, request: HttpRequest, export_id: str) -> dict:
        state = export_state(export_id)
        if state is None or (state["user"] != request.user.pk and not request.user.is_superuser):
            raise Http404("No such export.")
        return state

    def export_progress_view(self, request: HttpRequest, export_id: str) -> HttpResponse:
        """A big PDF export rendering on the cluster: progress, then the download."""
        return TemplateResponse(
            request,
            "admin/timesheets/timesheet/export_progress.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "export": self._export(request, export_id),
                "export_id": export_id,
                "title": "Timesheet export",
            },
        )

    def export_download_view(self, request: HttpRequest, export_id: str) -> HttpResponse:
        state = self._export(request, export_id)
        if state.get("state") != "done":
            return HttpResponseRedirect(
                reverse("admin:timesheets_export_progress", args=[export_id])
            )
        with default_storage.open(state["file"], "rb") as handle:
            content = handle.read()
        fmt = "zip" if state["name"].endswith(".zip") else "pdf"
        return file_response(state["name"], content, fmt)

    def download_view(self, request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
        timesheet = self.get_object(request, str(pk))
        try:
            name, content = timesheet_file(timesheet=timesheet, fmt=fmt)
        except TimesheetError as error:
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:timesheets_timesheet_change", args=[pk]))
        return file_response(name, content, fmt)

    def upload_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self._upload(request, [self.get_object(request, str(pk))])
        return HttpResponseRedirect(reverse("admin:timesheets_timesheet_change", args=[pk]))

    def void_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self._void(request, [self.get_object(request, str(pk))])
        return HttpResponseRedirect(reverse("admin:timesheets_timesheet_change", args=[pk]))

    @admin.action(description="Regenerate files")
    def regenerate_files(self, request: HttpRequest, queryset: QuerySet[Timesheet]) -> None:
        for timesheet in queryset:
            try:
                timesheet_regenerate_files(timesheet=timesheet, user=request.user)
            except TimesheetError as error:
                self.message_user(request, f"{timesheet}: {error}", messages.ERROR)
            else:
                self.message_user(request, f"{timesheet}: files regenerated.")

    def _download(self, request: HttpRequest, queryset: QuerySet[Timesheet], fmt: str) -> Any:
        from timesheets.documents import zip_files

        files = {}
        for timesheet in queryset:
            try:
                name, content = timesheet_file(timesheet=timesheet, fmt=fmt)
            except TimesheetError as error:
                self.message_user(request, f"{timesheet}: {error}", messages.ERROR)
                continue
            files[name] = content
        if not files:
            return None
        if len(files) == 1:
            [(name, content)] = files.items()
            return file_response(name, content, fmt)
        return file_response("timesheets.zip", zip_files(files), "zip")

    @admin.action(description="Download PDF")
    def download_pdf(self, request: HttpRequest, queryset: QuerySet[Timesheet]) -> Any:
        return self._download(request, queryset, "pdf")

    @admin.action(description="Download CSV")
    def download_csv(self, request: HttpRequest, queryset: QuerySet[Timesheet]) -> Any:
        return self._download(request, queryset, "csv")

    @admin.action(description="Download Excel")
    def download_xlsx(self, request: HttpRequest, queryset: QuerySet[Timesheet]) -> Any:
        return self._download(request, queryset, "xlsx")

    @admin.action(description="Upload to OneDrive")
    def upload_onedrive(self, request: HttpRequest, queryset: QuerySet[Timesheet]) -> None:
        self._upload(request, list(queryset))

    def _upload(self, request: HttpRequest, timesheets: list[Timesheet]) -> None:
        for timesheet in timesheets:
            try:
                files = timesheet_upload_onedrive(timesheet=timesheet, user=request.user)
            except TimesheetError as error:
                self.message_user(request, f"{timesheet}: {error}", messages.ERROR)
            except Exception as error:
                problem = microsoft_problem(error)
                if problem is None:
                    raise
                self.message_user(
                    request,
                    f"{timesheet}: the upload to OneDrive failed ({problem}); "
                    "an action item was opened and you can retry.",
                    messages.ERROR,
                )
            else:
                self.message_user(
                    request, f"{timesheet}: {len(files)} file(s) uploaded to OneDrive."
                )

    @admin.action(description="Void (release the appointments)")
    def void(self, request: HttpRequest, queryset: QuerySet[Timesheet]) -> None:
        self._void(request, list(queryset))

    def _void(self, request: HttpRequest, timesheets: list[Timesheet]) -> None:
        for timesheet in timesheets:
            try:
                released = timesheet_void(timesheet=timesheet, user=request.user)
            except TimesheetError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(
                    request, f"{timesheet}: void; {released} appointment(s) released."
                )


@admin.register(CustomerSettings)
class CustomerSettingsAdmin(OwnedModelAdmin):
    list_display = [
        "customer",
        "display_name",
        "legal_name",
        "travel_rate",
        "rounding_interval",
        "rounding_mode",
        "onedrive_folder",
        "user",
    ]
    list_filter = ["rounding_mode", "user"]
    search_fields = ["customer", "display_name", "legal_name"]
    list_select_related = ["user"]
