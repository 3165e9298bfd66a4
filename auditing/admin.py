from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from adminassistant.admin import OwnedModelAdmin, ReadOnlyAdminMixin
from auditing.models import ActionLog, AuditLog
from auditing.services import action_log_close


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdminMixin, OwnedModelAdmin):
    list_display = [
        "created_at",
        "action_type",
        "operation",
        "status",
        "resource_type",
        "resource_id",
        "message",
        "duration_ms",
        "correlation_id",
        "user",
    ]
    list_filter = ["status", "action_type", "resource_type", "user"]
    search_fields = ["operation", "message", "correlation_id", "resource_id"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    show_full_result_count = False
    list_per_page = 100


@admin.register(ActionLog)
class ActionLogAdmin(OwnedModelAdmin):
    list_display = ["created_at", "event_type", "state", "description", "closed_at", "user"]
    list_filter = ["state", "event_type", "user"]
    search_fields = ["event_type", "description"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    readonly_fields = ["closed_at", "closed_by", "created_at", "updated_at"]
    show_full_result_count = False
    actions = ["resolve", "dismiss"]

    @admin.action(description="Resolve selected items")
    def resolve(self, request: HttpRequest, queryset: QuerySet[ActionLog]) -> None:
        self._close(request, queryset, ActionLog.State.RESOLVED)

    @admin.action(description="Dismiss selected items")
    def dismiss(self, request: HttpRequest, queryset: QuerySet[ActionLog]) -> None:
        self._close(request, queryset, ActionLog.State.DISMISSED)

    def _close(self, request: HttpRequest, queryset: QuerySet[ActionLog], state: str) -> None:
        changed = action_log_close(items=queryset, state=state, user=request.user)
        skipped = queryset.count() - changed
        self.message_user(request, f"{changed} item(s) {state}.", messages.SUCCESS)
        if skipped > 0:
            self.message_user(
                request, f"{skipped} item(s) were already closed and left as they were."
            )
