from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from adminassistant.admin import OwnedModelAdmin, ReadOnlyAdminMixin
from archiving.services import OverlapResolutionError, overlap_resolve
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

    def get_urls(self) -> list:
        return [
            path(
                "<int:pk>/resolve-overlap/",
                self.admin_site.admin_view(self.resolve_overlap_view),
                name="auditing_actionlog_resolve_overlap",
            ),
            *super().get_urls(),
        ]

    def resolve_overlap_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Keep one or several of an overlap's appointments; the rest are dropped."""
        item = self.get_object(request, str(pk))
        error = None
        if request.method == "POST":
            keep = [int(v) for v in request.POST.getlist("keep") if v.isdigit()]
            try:
                overlap_resolve(item=item, keep_ids=keep, user=request.user)
            except OverlapResolutionError as problem:
                error = str(problem)
            else:
                self.message_user(
                    request,
                    f"Overlap resolved: {len(keep)} appointment(s) kept; the archive "
                    "calendar is being updated.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:auditing_actionlog_changelist"))
        return TemplateResponse(
            request,
            "admin/auditing/actionlog/resolve_overlap.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": item,
                "members": (item.details or {}).get("appointments", []),
                "recommendations": item.recommendations or [],
                "error": error,
                "title": item.description,
            },
        )

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
