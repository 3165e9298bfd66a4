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
    StreamingHttpResponse,
)
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from calendars.models import Appointment, AppointmentQuerySet
from foundations.admin import OwnedModelAdmin, admin_extension_add
from foundations.downloads import attachment_response
from foundations.graph import microsoft_problem
from foundations.requests import AuthenticatedHttpRequest
from timesheets.admin_exports import appointments_export, export_state
from timesheets.billing import format_hours
from timesheets.forms import GenerateTimesheetForm
from timesheets.models import BillingProfile, CustomerSettings, Timesheet, XeroConnection
from timesheets.services import (
    CONTENT_TYPES,
    TimesheetError,
    appointment_billing,
    timesheet_billed,
    timesheet_file,
    timesheet_generate,
    timesheet_regenerate_files,
    timesheet_upload_onedrive,
    timesheet_void,
)
from timesheets.xero import (
    XeroError,
    timesheet_xero_push,
    xero_configured,
    xero_connect_finish,
    xero_connect_start,
    xero_disconnect,
)


@admin.register(Timesheet)
class TimesheetAdmin(OwnedModelAdmin[Timesheet]):
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
        timesheet = self.get_object(request, object_id)
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
            "billed_totals": {
                "effort": format_hours(data.effort_total),
                "effort_billable": format_hours(data.effort_billable_total),
                "travel": format_hours(data.travel_total),
                "travel_billable": format_hours(data.travel_billable_total),
                "billable": format_hours(data.billable_total),
            },
            "billed_timezone": timesheet.user.timezone,
            "billed_files": files,
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

    @admin.action(description="Send to Xero")
    def send_to_xero(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[Timesheet]
    ) -> None:
        for timesheet in queryset:
            try:
                push = timesheet_xero_push(timesheet=timesheet, user=request.user)
            except (TimesheetError, XeroError) as error:
                self.message_user(request, f"{timesheet}: {error}", messages.ERROR)
            else:
                made = "created" if push.created else "already existed"
                self.message_user(
                    request,
                    f"{timesheet}: draft invoice {push.invoice_number} in Xero {made} "
                    f"(contact {push.contact}) with the PDF attached.",
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


@admin.register(CustomerSettings)
class CustomerSettingsAdmin(OwnedModelAdmin[CustomerSettings]):
    list_display = [
        "customer",
        "display_name",
        "legal_name",
        "currency",
        "hourly_rate",
        "travel_rate",
        "travel_hourly_rate",
        "xero_contact_id",
        "rounding_interval",
        "rounding_mode",
        "onedrive_folder",
        "user",
    ]
    list_filter = ["rounding_mode", "user"]
    search_fields = ["customer", "display_name", "legal_name"]
    list_select_related = ["user"]


@admin.register(BillingProfile)
class BillingProfileAdmin(OwnedModelAdmin[BillingProfile]):
    list_display = ["user", "currency", "hourly_rate"]
    list_select_related = ["user"]


@admin.register(XeroConnection)
class XeroConnectionAdmin(OwnedModelAdmin[XeroConnection]):
    """The user's Xero connection: connect (sign in at Xero), choose the organisation,
    disconnect (revokes at Xero). Tokens are never shown."""

    list_display = ["user", "tenant_name", "connected", "connected_at"]
    list_select_related = ["user"]
    fields = ["user", "tenant_id", "tenant_name", "connected_at"]
    readonly_fields = ["tenant_name", "connected_at"]
    actions = ["disconnect"]

    @admin.display(boolean=True)
    def connected(self, obj: XeroConnection) -> bool:
        return obj.is_connected

    def get_urls(self) -> list:
        return [
            path(
                "connect/",
                self.admin_site.admin_view(self.connect_view),
                name="timesheets_xeroconnection_connect",
            ),
            path(
                "callback/",
                self.admin_site.admin_view(self.callback_view),
                name="timesheets_xeroconnection_callback",
            ),
            *super().get_urls(),
        ]

    def connect_view(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        if not xero_configured():
            self.message_user(request, "Xero is not configured (see the README).", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:timesheets_xeroconnection_changelist"))
        return HttpResponseRedirect(xero_connect_start(user=request.user))

    def callback_view(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        try:
            connection = xero_connect_finish(
                user=request.user, redirect_url=request.build_absolute_uri()
            )
        except XeroError as error:
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:timesheets_xeroconnection_changelist"))
        if connection.tenant_id:
            self.message_user(request, f"Connected to Xero: {connection.tenant_name}.")
        else:
            self.message_user(request, "Connected to Xero: choose the organisation to invoice.")
        return HttpResponseRedirect(
            reverse("admin:timesheets_xeroconnection_change", args=[connection.pk])
        )

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "tenant_id":
            from django import forms

            choices = [("", "—")]
            obj_id = (
                request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            )
            connection = XeroConnection.objects.filter(pk=obj_id).first() if obj_id else None
            if connection is not None:
                choices += [(t["tenantId"], t["tenantName"]) for t in connection.tenants]
            return forms.ChoiceField(choices=choices, required=False, label="Organisation")
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(
        self, request: HttpRequest, obj: XeroConnection, form: Any, change: bool
    ) -> None:
        names = {t["tenantId"]: t["tenantName"] for t in obj.tenants}
        obj.tenant_name = names.get(obj.tenant_id, "")
        super().save_model(request, obj, form, change)

    @admin.action(description="Disconnect (revoke at Xero)")
    def disconnect(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[XeroConnection]
    ) -> None:
        for connection in queryset.select_related("user"):
            try:
                xero_disconnect(user=connection.user)
            except XeroError as error:
                self.message_user(request, f"{connection}: {error}", messages.ERROR)
            else:
                self.message_user(request, f"{connection.user}: Xero disconnected.")


# -- what timesheets add to the Appointment admin (calendars sits below timesheets) -----------


def _appointments_export(
    request: AuthenticatedHttpRequest, queryset: AppointmentQuerySet, fmt: str
) -> HttpResponse | StreamingHttpResponse | None:
    try:
        return appointments_export(request=request, appointments=queryset, fmt=fmt)
    except TimesheetError as error:
        messages.error(request, str(error))
        return None


@admin.action(description="Export timesheet (PDF)")
def export_pdf(
    modeladmin: admin.ModelAdmin, request: AuthenticatedHttpRequest, queryset: AppointmentQuerySet
) -> HttpResponse | StreamingHttpResponse | None:
    return _appointments_export(request, queryset, "pdf")


@admin.action(description="Export timesheet (CSV)")
def export_csv(
    modeladmin: admin.ModelAdmin, request: AuthenticatedHttpRequest, queryset: AppointmentQuerySet
) -> HttpResponse | StreamingHttpResponse | None:
    return _appointments_export(request, queryset, "csv")


@admin.action(description="Export timesheet (Excel)")
def export_xlsx(
    modeladmin: admin.ModelAdmin, request: AuthenticatedHttpRequest, queryset: AppointmentQuerySet
) -> HttpResponse | StreamingHttpResponse | None:
    return _appointments_export(request, queryset, "xlsx")


@admin.display(description="What a timesheet bills")
def billing_result(obj: Appointment) -> str:
    if obj.pk is None:
        return "Shown once saved."
    return appointment_billing(obj)


admin_extension_add(
    Appointment,
    actions=[export_pdf, export_csv, export_xlsx],
    fields=[(billing_result, "categories")],
)
