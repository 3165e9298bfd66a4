"""The admin pages of a user's billing settings (customer settings, billing defaults, the Xero
connection) and the timesheet actions and field added to the Appointment page; imported by
timesheets/admin.py, which keeps the Timesheet page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.urls import path, reverse

from calendars.models import Appointment, AppointmentQuerySet
from foundations.admin import OwnedModelAdmin, admin_extension_add
from foundations.requests import AuthenticatedHttpRequest
from timesheets.admin_exports import appointments_export
from timesheets.models import BillingProfile, CustomerSettings, XeroConnection
from timesheets.selectors import appointment_billing
from timesheets.services import (
    TimesheetError,
)
from timesheets.xero import (
    XeroError,
    xero_configured,
    xero_connect_finish,
    xero_connect_start,
    xero_disconnect,
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
