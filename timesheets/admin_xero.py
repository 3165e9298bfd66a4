"""Admin pages for the Xero pushes (each timesheet's sending: status, failure, attempts) and,
for superusers only, the shared limits budget's rows. All read-only: written by the pushes."""

from __future__ import annotations

from typing import cast

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from foundations.admin import ReadOnlyAdminMixin
from foundations.models import OwnedQuerySet
from timesheets.models import XeroBudgetLock, XeroCallSlot, XeroPush


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
