"""The timesheets' "Send to Xero" action and Xero column, the admin pages for the Xero pushes
(each timesheet's sending: status, failure, attempts) and, for superusers only, the shared
limits budget's rows. The pages are read-only: the pushes write them."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from foundations.admin import ReadOnlyAdminMixin
from foundations.models import OwnedQuerySet
from foundations.requests import AuthenticatedHttpRequest
from timesheets.models import Timesheet, XeroBudgetLock, XeroCallSlot, XeroPush
from timesheets.services import TimesheetError
from timesheets.xero_client import XeroError
from timesheets.xero_push import xero_push_what_to_do
from timesheets.xero_queue import xero_push_batch, xero_push_queue


class TimesheetXeroAdminMixin:
    """Mixed into the timesheets' admin."""

    message_user: Any  # the ModelAdmin's

    @admin.display(description="Xero")
    def xero(self, obj: Timesheet) -> str:
        """Sending…, the invoice number linked to Xero, or the failure."""
        push = getattr(obj, "xero_push", None)
        if obj.xero_invoice_url and (push is None or push.status == XeroPush.Status.SENT):
            return format_html(
                '<a href="{}" rel="noopener" target="_blank">{}</a>',
                obj.xero_invoice_url,
                obj.xero_invoice_number or "invoice",
            )
        if push is None:
            return "—"
        if push.status == XeroPush.Status.FAILED:
            return f"failed: {push.error}"
        return str(push.get_status_display())

    @admin.action(description="Send to Xero")
    def send_to_xero(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[Timesheet]
    ) -> None:
        """Queues the pushes (one task each) and answers at once; the Xero column follows."""
        timesheets = list(queryset)
        if len(timesheets) == 1:
            try:
                xero_push_queue(timesheet=timesheets[0], user=request.user)
            except (TimesheetError, XeroError) as error:
                self.message_user(request, f"{timesheets[0]}: {error}", messages.ERROR)
                return
            refused: list[str] = []
        else:
            _, refused = xero_push_batch(timesheets=timesheets, user=request.user)
        for line in refused:
            self.message_user(request, line, messages.ERROR)
        pushes = XeroPush.objects.select_related("timesheet").filter(timesheet__in=timesheets)
        waiting = 0
        for push in pushes:
            ts = push.timesheet
            if push.status == XeroPush.Status.SENT:
                self.message_user(
                    request, f"{ts}: draft invoice {ts.xero_invoice_number} in Xero, PDF attached."
                )
            elif push.status == XeroPush.Status.FAILED:
                self.message_user(
                    request,
                    f"{ts}: sending to Xero failed: {push.error} {xero_push_what_to_do(push)}",
                    messages.ERROR,
                )
            else:
                waiting += 1
        if waiting:
            self.message_user(
                request,
                f"Sending {waiting} timesheet(s) to Xero…: the Xero column shows each invoice "
                "as it is made (reload the page).",
            )


@admin.register(XeroPush)
class XeroPushAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "timesheet",
        "status",
        "failure",
        "limit_problem",
        "attempts",
        "requests_sent",
        "limit_waits",
        "finished_at",
    ]
    list_filter = ["status", "failure", "batch"]
    search_fields = ["timesheet__customer", "error", "batch", "correlation_id"]
    list_select_related = ["timesheet__user"]
    exclude = ["body"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[XeroPush]:
        return cast(OwnedQuerySet, super().get_queryset(request)).for_user(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request: HttpRequest, obj: XeroPush | None = None) -> bool:
        if not (request.user.is_active and request.user.is_staff):
            return False
        return obj is None or request.user.is_superuser or obj.timesheet.user_id == request.user.pk


class _SuperuserOnly(ReadOnlyAdminMixin, admin.ModelAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self.has_module_permission(request)


@admin.register(XeroCallSlot)
class XeroCallSlotAdmin(_SuperuserOnly):
    list_display = ["tenant_id", "started", "finished"]
    list_filter = ["tenant_id"]


@admin.register(XeroBudgetLock)
class XeroBudgetLockAdmin(_SuperuserOnly):
    list_display = ["name"]
