from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseGone,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST

from calendars.models import Appointment
from foundations.admin import OwnedModelAdmin
from foundations.downloads import attachment_response
from foundations.graph import microsoft_problem
from foundations.requests import AuthenticatedHttpRequest

# The billing settings' pages and the Appointment page's timesheet actions register on import.
from timesheets import admin_settings  # noqa: F401
from timesheets.admin_exports import export_state
from timesheets.admin_xero import TimesheetXeroAdminMixin
from timesheets.billing import format_hours
from timesheets.forms import GenerateTimesheetForm
from timesheets.models import (
    Timesheet,
    XeroPush,
)
from timesheets.presentation import (
    timesheet_amount_html,
    timesheet_invoice_html,
    timesheet_period,
    timesheet_uploads,
)
from timesheets.services import (
    CONTENT_TYPES,
    TimesheetError,
    timesheet_billed,
    timesheet_file,
    timesheet_generate,
    timesheet_regenerate_files,
    timesheet_upload_onedrive,
    timesheet_void,
)
from timesheets.xero_push import xero_push_what_to_do


@admin.register(Timesheet)
class TimesheetAdmin(TimesheetXeroAdminMixin, OwnedModelAdmin[Timesheet]):
    list_display = [
        "customer",
        "period",
        "status",
        "amount",
        "invoice",
        "uploads",
        "user",
    ]
    list_display_links = ["customer"]
    list_filter = ["status", "customer", "uploaded_to_onedrive", "uploaded_to_xero", "user"]
    search_fields = ["customer", "pdf_path", "csv_path", "excel_path"]
    date_hierarchy = "start_date"
    list_select_related = ["user", "xero_push"]
    readonly_fields = [
        "status",
        "xero",
        "pdf_path",
        "csv_path",
        "excel_path",
        "uploaded_to_onedrive",
        "uploaded_to_xero",
        "onedrive_url",
        "currency",
        "hourly_rate",
        "travel_hourly_rate",
        "amount_total",
        "xero_invoice_number",
        "xero_invoice_url",
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
        "send_to_xero",
        "void",
        "void_in_xero",
    ]

    def get_list_display(self, request: HttpRequest) -> Any:
        # A superuser's owner column would not fit at 1280 px: the owner goes under the customer.
        columns = list(super().get_list_display(request))
        if self.owner_field in columns:
            columns.remove(self.owner_field)
            columns[columns.index("customer")] = "customer_and_owner"
        return columns

    def get_list_display_links(self, request: HttpRequest, list_display: Any) -> Any:
        if "customer_and_owner" in list_display:
            return ["customer_and_owner"]
        return super().get_list_display_links(request, list_display)

    @admin.display(description="customer", ordering="customer")
    def customer_and_owner(self, obj: Timesheet) -> SafeString:
        return format_html('{}<span class="list-owner">{}</span>', obj.customer, obj.user)

    @admin.display(description="period", ordering="start_date")
    def period(self, obj: Timesheet) -> str:
        return timesheet_period(obj)

    @admin.display(description="amount", ordering="amount_total")
    def amount(self, obj: Timesheet) -> SafeString:
        return timesheet_amount_html(obj)

    @admin.display(description="invoice", ordering="xero_invoice_number")
    def invoice(self, obj: Timesheet) -> SafeString:
        return timesheet_invoice_html(obj)

    @admin.display(description="uploads")
    def uploads(self, obj: Timesheet) -> str:
        return timesheet_uploads(obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Timesheets are issued through "Generate timesheet", which bills and locks.
        return False

    def has_change_permission(self, request: HttpRequest, obj: Timesheet | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Timesheet | None = None) -> bool:
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

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        from timesheets.documents import timesheet_context  # WeasyPrint loads on first use

        timesheet = self.get_object(request, object_id)
        if timesheet is None:
            raise Http404("No such timesheet.")
        push = XeroPush.objects.filter(timesheet=timesheet).first()
        if push is not None and push.status == XeroPush.Status.FAILED:
            self.message_user(
                request,
                f"Sending to Xero failed: {push.error} {xero_push_what_to_do(push)}",
                messages.ERROR,
            )
        data = timesheet_billed(timesheet)
        files = [
            (label, fmt)
            for label, fmt, field in (
                ("PDF", "pdf", "pdf_path"),
                ("CSV", "csv", "csv_path"),
                ("Excel", "xlsx", "excel_path"),
            )
            if getattr(timesheet, field)
        ]
        context = {
            "billed": data,
            # The PDF's own formatting: the page prints what the document prints.
            "document": timesheet_context(data),
            "billed_timezone": timesheet.user.timezone,
            "billed_files": files,
            "billed_amount": timesheet_amount_html(timesheet),
            "billed_invoice": timesheet_invoice_html(timesheet),
            "billed_uploads": timesheet_uploads(timesheet),
        }
        return super().change_view(
            request, object_id, form_url, {**context, **(extra_context or {})}
        )

    def generate_view(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        customers = sorted(
            set(
                Appointment.objects.for_user(request.user)
                .exclude(customer__isnull=True)
                .values_list("customer", flat=True)
                .distinct()
            )
        )
        # A GET may prefill the form (the home page's "Generate timesheet" links).
        form = GenerateTimesheetForm(
            request.POST or None,
            initial=request.GET.dict(),
            request_user=request.user,
            customers=customers,
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

    def _export(self, request: AuthenticatedHttpRequest, export_id: str) -> dict:
        state = export_state(export_id)
        if state is None or (state["user"] != request.user.pk and not request.user.is_superuser):
            raise Http404("No such export.")
        return state

    def export_progress_view(
        self, request: AuthenticatedHttpRequest, export_id: str
    ) -> HttpResponse:
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

    def export_download_view(
        self, request: AuthenticatedHttpRequest, export_id: str
    ) -> HttpResponse:
        state = self._export(request, export_id)
        if state.get("state") != "done":
            return HttpResponseRedirect(
                reverse("admin:timesheets_export_progress", args=[export_id])
            )
        try:
            with default_storage.open(state["file"], "rb") as handle:
                content = handle.read()
        except FileNotFoundError:
            return HttpResponseGone("This export's file is no longer stored: export again.")
        fmt = "zip" if state["name"].endswith(".zip") else "pdf"
        return attachment_response(content, name=state["name"], content_type=CONTENT_TYPES[fmt])

    def download_view(self, request: AuthenticatedHttpRequest, pk: int, fmt: str) -> HttpResponse:
        timesheet = self.get_object(request, str(pk))
        try:
            name, content = timesheet_file(timesheet=timesheet, fmt=fmt)
        except TimesheetError as error:
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:timesheets_timesheet_change", args=[pk]))
        return attachment_response(content, name=name, content_type=CONTENT_TYPES[fmt])

    def upload_view(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        self._upload(request, [self.get_object(request, str(pk))])
        return HttpResponseRedirect(reverse("admin:timesheets_timesheet_change", args=[pk]))

    def void_view(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        self._void(request, [self.get_object(request, str(pk))])
        return HttpResponseRedirect(reverse("admin:timesheets_timesheet_change", args=[pk]))

    @admin.action(description="Regenerate files")
    def regenerate_files(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[Timesheet]
    ) -> None:
        for timesheet in queryset:
            try:
                timesheet_regenerate_files(timesheet=timesheet, user=request.user)
            except TimesheetError as error:
                self.message_user(request, f"{timesheet}: {error}", messages.ERROR)
            else:
                self.message_user(request, f"{timesheet}: files regenerated.")

    def _download(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[Timesheet], fmt: str
    ) -> Any:
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
            return attachment_response(content, name=name, content_type=CONTENT_TYPES[fmt])
        return attachment_response(
            zip_files(files), name="timesheets.zip", content_type=CONTENT_TYPES["zip"]
        )

    @admin.action(description="Download PDF")
    def download_pdf(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Timesheet]) -> Any:
        return self._download(request, queryset, "pdf")

    @admin.action(description="Download CSV")
    def download_csv(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Timesheet]) -> Any:
        return self._download(request, queryset, "csv")

    @admin.action(description="Download Excel")
    def download_xlsx(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[Timesheet]
    ) -> Any:
        return self._download(request, queryset, "xlsx")

    @admin.action(description="Upload to OneDrive")
    def upload_onedrive(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[Timesheet]
    ) -> None:
        self._upload(request, list(queryset))

    def _upload(self, request: AuthenticatedHttpRequest, timesheets: list[Timesheet]) -> None:
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
    def void(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Timesheet]) -> None:
        self._void(request, list(queryset))

    @admin.action(description="Void here and delete the draft invoice in Xero")
    def void_in_xero(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[Timesheet]
    ) -> None:
        self._void(request, list(queryset), void_in_xero=True)

    def _void(
        self,
        request: AuthenticatedHttpRequest,
        timesheets: list[Timesheet],
        *,
        void_in_xero: bool = False,
    ) -> None:
        for timesheet in timesheets:
            try:
                released = timesheet_void(
                    timesheet=timesheet, user=request.user, void_in_xero=void_in_xero
                )
            except TimesheetError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(
                    request, f"{timesheet}: void; {released} appointment(s) released."
                )
