from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from auditing.attention import (
    ApplyFailed,
    ItemChanged,
    RecommendationUnknown,
    action_item_evidence,
    action_items_at_stake,
    confident_apply,
    free_choice_apply,
    recommendation_apply,
    recommendation_dismiss,
)
from auditing.models import ActionLog, ActionLogQuerySet, ActionLogState, AuditLog
from auditing.recommendations import confidence_threshold, is_preselected
from auditing.resolutions import ResolutionFailed, free_choices, item_resolve
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
        "at_stake",
        "top_recommendation",
        "closed_at",
        "resolution",
        "user",
    ]
    list_filter = ["state", "event_type", "user"]
    search_fields = ["event_type", "description"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    fields = ["user", "event_type", "state", "description"]
    readonly_fields = [
        "user",
        "event_type",
        "state",
        "description",
        "key",
        "closed_at",
        "closed_by",
        "resolution",
        "created_at",
        "updated_at",
    ]
    show_full_result_count = False
    actions = [
        "apply_top_recommendation",
        "resolve",
        "dismiss",
        "it_happened",
        "it_did_not_happen",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Items come from what the system saw (a run, a failed upload); nobody invents one.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An item is settled (applied, resolved or dismissed, each audited), never deleted: a
        # deleted item would let a billable meeting drop out of sight without a decision.
        return False

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        self._stakes = action_items_at_stake(items=changelist.result_list)
        return changelist

    @admin.display(description="at stake")
    def at_stake(self, item: ActionLog) -> str:
        stake = getattr(self, "_stakes", {}).get(item.pk)
        if stake is None and not hasattr(self, "_stakes"):
            stake = action_items_at_stake(items=[item]).get(item.pk)
        return str(stake) if stake is not None else "—"

    @admin.display(description="top recommendation")
    def top_recommendation(self, item: ActionLog) -> str:
        top = item.top_recommendation if item.is_open else None
        if top is None:
            return "—"
        mark = "✓ " if is_preselected(top) else ""
        return f"{mark}{top['label']} ({top['confidence']:.0%})"

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        item = self.get_object(request, object_id)
        if request.method == "POST" and item is not None:
            # Nothing on the item is edited by hand: it is settled by its recommendations.
            self.message_user(
                request, "Settle the item with one of its recommendations.", messages.WARNING
            )
            return HttpResponseRedirect(request.path)
        context = dict(extra_context or {})
        context.update(show_save=False, show_save_and_continue=False)
        if item is not None:
            stake = action_items_at_stake(items=[item]).get(item.pk)
            context.update(
                evidence=action_item_evidence(item=item),
                user_zone=item.user.timezone,
                stake=stake,
                choices=[
                    {**r, "preselected": is_preselected(r), "percent": f"{r['confidence']:.0%}"}
                    for r in item.recommendations or []
                ],
                last_error=(item.details or {}).get("last_error"),
                free_choices=[
                    {"choice": f.choice, "label": f.label, "options": f.options(item)}
                    for f in free_choices(event_type=item.event_type)
                ],
                threshold=f"{confidence_threshold():.0%}",
            )
        return super().change_view(request, object_id, form_url, context)

    def recommendation_view(
        self, request: AuthenticatedHttpRequest, pk: int, recommendation_id: str, verb: str
    ) -> HttpResponse:
        """One button of the item page: apply, or turn down, one recommendation."""
        item = self.get_object(request, str(pk))
        if item is None or not self.has_change_permission(request, item):
            return HttpResponseRedirect(reverse("admin:auditing_actionlog_changelist"))
        back = HttpResponseRedirect(reverse("admin:auditing_actionlog_change", args=[item.pk]))
        try:
            if verb == "apply":
                done = recommendation_apply(
                    item=item, recommendation_id=recommendation_id, by=request.user
                )
                self.message_user(request, done, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:auditing_actionlog_changelist"))
            if verb != "dismiss":
                return back
            recommendation_dismiss(item=item, recommendation_id=recommendation_id, by=request.user)
            self.message_user(request, "That suggestion will not be offered again.")
        except (ApplyFailed, ItemChanged, RecommendationUnknown) as error:
            self.message_user(request, f"{item}: {error}", messages.ERROR)
        return back

    def free_choice_view(
        self, request: AuthenticatedHttpRequest, pk: int, choice: str
    ) -> HttpResponse:
        """The item page's "pick one yourself" form (a category of the owner's, say)."""
        item = self.get_object(request, str(pk))
        if item is None or not self.has_change_permission(request, item):
            return HttpResponseRedirect(reverse("admin:auditing_actionlog_changelist"))
        try:
            done = free_choice_apply(
                item=item, choice=choice, value=request.POST.get("value", ""), by=request.user
            )
        except (ApplyFailed, ItemChanged, RecommendationUnknown) as error:
            self.message_user(request, f"{item}: {error}", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:auditing_actionlog_change", args=[pk]))
        self.message_user(request, done, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:auditing_actionlog_changelist"))

    @admin.action(description="Apply the top recommendation of the selected items")
    def apply_top_recommendation(
        self, request: AuthenticatedHttpRequest, queryset: ActionLogQuerySet
    ) -> HttpResponse | None:
        """Only the confident ones, unless the person confirms the others on the next page."""
        items = list(queryset.open())
        confirm = request.POST.get("confirm", "")
        unsure = [
            (item, item.top_recommendation)
            for item in items
            if item.top_recommendation is not None and not item.top_is_preselected
        ]
        if unsure and confirm not in ("confident", "all"):
            return self._confirm_unsure(request, queryset, unsure)
        outcomes = confident_apply(
            items=items, by=request.user, min_confidence=0.0 if confirm == "all" else None
        )
        applied = [o for o in outcomes if o.applied]
        self.message_user(
            request,
            f"{len(applied)} item(s) settled by their top recommendation.",
            messages.SUCCESS if applied else messages.INFO,
        )
        for outcome in outcomes:
            if not outcome.applied:
                self.message_user(request, f"{outcome.item}: {outcome.message}", messages.ERROR)
        return None

    def _confirm_unsure(
        self,
        request: AuthenticatedHttpRequest,
        queryset: ActionLogQuerySet,
        unsure: list[tuple[ActionLog, dict[str, Any] | None]],
    ) -> HttpResponse:
        return TemplateResponse(
            request,
            "admin/auditing/actionlog/confirm_apply.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "Apply recommendations that are not confident?",
                "unsure": [
                    {"item": item, "top": top, "percent": f"{(top or {}).get('confidence', 0):.0%}"}
                    for item, top in unsure
                ],
                "selected": [str(pk) for pk in queryset.values_list("pk", flat=True)],
                "threshold": f"{confidence_threshold():.0%}",
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )

    SOURCE_DELETED_CHOICES = {"happened": "it_happened", "did-not-happen": "it_did_not_happen"}

    def get_urls(self) -> list:
        return [
            path(
                "<int:pk>/resolve-overlap/",
                self.admin_site.admin_view(self.resolve_overlap_view),
                name="auditing_actionlog_resolve_overlap",
            ),
            path(
                "<int:pk>/recommendation/<str:recommendation_id>/<str:verb>/",
                self.admin_site.admin_view(require_POST(self.recommendation_view)),
                name="auditing_actionlog_recommendation",
            ),
            path(
                "<int:pk>/choose/<str:choice>/",
                self.admin_site.admin_view(require_POST(self.free_choice_view)),
                name="auditing_actionlog_free_choice",
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
