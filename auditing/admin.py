from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from auditing.models import ActionLog, ActionLogQuerySet, ActionLogState, AuditLog
from auditing.resolutions import ResolutionFailed, item_resolve
from auditing.services import action_log_close
from foundations.admin import OwnedModelAdmin, ReadOnlyAdminMixin
from foundations.graph import microsoft_problem
from foundations.requests import AuthenticatedHttpRequest


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdminMixin, OwnedModelAdmin[AuditLog]):
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
class ActionLogAdmin(OwnedModelAdmin[ActionLog]):
    list_display = [
        "created_at",
        "event_type",
        "state",
        "description",
        "closed_at",
        "resolution",
        "user",
    ]
    list_filter = ["state", "event_type", "user"]
    search_fields = ["event_type", "description"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    readonly_fields = ["key", "closed_at", "closed_by", "resolution", "created_at", "updated_at"]
    show_full_result_count = False
    actions = ["resolve", "dismiss", "it_happened", "it_did_not_happen"]
    SOURCE_DELETED_CHOICES = {"happened": "it_happened", "did-not-happen": "it_did_not_happen"}

    def get_urls(self) -> list:
        return [
            path(
                "<int:pk>/resolve-overlap/",
                self.admin_site.admin_view(self.resolve_overlap_view),
                name="auditing_actionlog_resolve_overlap",
            ),
            path(
                "<int:pk>/source-deleted/<str:choice>/",
                self.admin_site.admin_view(require_POST(self.source_deleted_view)),
                name="auditing_actionlog_source_deleted",
            ),
            *super().get_urls(),
        ]

    def source_deleted_view(
        self, request: AuthenticatedHttpRequest, pk: int, choice: str
    ) -> HttpResponse:
        """The two buttons of a 'deleted from the source' item."""
        item = self.get_object(request, str(pk))
        action = self.SOURCE_DELETED_CHOICES.get(choice)
        if item is None or action is None or not self.has_change_permission(request, item):
            return HttpResponseRedirect(reverse("admin:auditing_actionlog_changelist"))
        getattr(self, action)(request, ActionLog.objects.filter(pk=item.pk))
        return HttpResponseRedirect(reverse("admin:auditing_actionlog_change", args=[item.pk]))

    @admin.action(description="Deleted from the source: it happened — keep billing it")
    def it_happened(self, request: AuthenticatedHttpRequest, queryset: ActionLogQuerySet) -> None:
        self._settle_source_deleted(request, queryset, "happened", "kept and billed")

    @admin.action(description="Deleted from the source: it did not happen — stop billing it")
    def it_did_not_happen(
        self, request: AuthenticatedHttpRequest, queryset: ActionLogQuerySet
    ) -> None:
        self._settle_source_deleted(
            request, queryset, "did_not_happen", "no longer billed; copies deleted"
        )

    def _settle_source_deleted(
        self,
        request: AuthenticatedHttpRequest,
        queryset: ActionLogQuerySet,
        choice: str,
        outcome: str,
    ) -> None:
        items = queryset.filter(event_type=ActionLog.EventType.SOURCE_DELETED).open()
        settled = 0
        for item in items:
            try:
                item_resolve(
                    event_type=ActionLog.EventType.SOURCE_DELETED,
                    choice=choice,
                    item=item,
                    by=request.user,
                )
            except ResolutionFailed as error:
                self.message_user(request, f"{item}: {error}", messages.ERROR)
            except Exception as error:
                problem = microsoft_problem(error)
                if problem is None:
                    raise
                self.message_user(request, f"{item}: {problem}", messages.ERROR)
            else:
                settled += 1
        if settled:
            self.message_user(request, f"{settled} item(s) settled: {outcome}.", messages.SUCCESS)
        skipped = queryset.count() - items.count()
        if skipped:
            self.message_user(
                request, f"{skipped} item(s) were not open 'deleted from the source' items."
            )

    def resolve_overlap_view(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        """Keep one or several of an overlap's appointments; the rest are dropped."""
        item = self.get_object(request, str(pk))
        error = None
        if request.method == "POST":
            keep = [int(v) for v in request.POST.getlist("keep") if v.isdigit()]
            try:
                item_resolve(
                    event_type=ActionLog.EventType.OVERLAP,
                    choice="keep",
                    item=item,
                    by=request.user,
                    keep_ids=keep,
                )
            except ResolutionFailed as problem:
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
    def resolve(self, request: AuthenticatedHttpRequest, queryset: ActionLogQuerySet) -> None:
        self._close(request, queryset, ActionLog.State.RESOLVED)

    @admin.action(description="Dismiss selected items")
    def dismiss(self, request: AuthenticatedHttpRequest, queryset: ActionLogQuerySet) -> None:
        self._close(request, queryset, ActionLog.State.DISMISSED)

    def _close(
        self, request: AuthenticatedHttpRequest, queryset: ActionLogQuerySet, state: ActionLogState
    ) -> None:
        changed = action_log_close(items=queryset, state=state, user=request.user)
        skipped = queryset.count() - changed
        self.message_user(request, f"{changed} item(s) {state}.", messages.SUCCESS)
        if skipped > 0:
            self.message_user(
                request, f"{skipped} item(s) were already closed and left as they were."
            )
