"""REST API for the audit log (read-only) and the action log (read, resolve, dismiss)."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from auditing.models import ActionLog, ActionLogState, AuditLog
from auditing.resolutions import ResolutionFailed, item_resolve
from auditing.services import action_log_close
from foundations.api.exceptions import Conflict
from foundations.api.filters import InstantFilter, OwnedFilterSet
from foundations.api.pagination import CursorPagination
from foundations.api.schema import error_response
from foundations.api.serializers import OwnedModelSerializer, StrictFieldsMixin
from foundations.api.viewsets import OwnedReadOnlyModelViewSet
from foundations.requests import AuthenticatedRequest


class AuditLogSerializer(OwnedModelSerializer):
    class Meta:
        model = AuditLog
        fields = [
            "id",
            "user",
            "action_type",
            "operation",
            "status",
            "resource_type",
            "resource_id",
            "message",
            "details",
            "request_data",
            "response_data",
            "duration_ms",
            "ip_address",
            "user_agent",
            "correlation_id",
            "parent_audit",
            "created_at",
        ]
        read_only_fields = fields


class ActionLogSerializer(OwnedModelSerializer):
    class Meta:
        model = ActionLog
        fields = [
            "id",
            "user",
            "event_type",
            "state",
            "description",
            "details",
            "recommendations",
            "key",
            "closed_at",
            "closed_by",
            "resolution",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ResolveSerializer(StrictFieldsMixin, serializers.Serializer):
    keep = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        min_length=1,
        max_length=1000,
        help_text="For an overlap item: the ids of the appointments to keep; the others are "
        "dropped and the archive calendar is updated. Leave out to just mark it resolved.",
    )
    decision = serializers.ChoiceField(
        choices=[
            ("happened", "It happened: keep billing it"),
            ("did_not_happen", "It did not happen: stop billing it, delete its archive copies"),
        ],
        required=False,
        help_text="Required for a source_deleted item (an archived meeting deleted in Outlook).",
    )


class AuditLogFilterSet(OwnedFilterSet):
    correlation_id = django_filters.CharFilter(max_length=128)
    action_type = django_filters.CharFilter(max_length=64)
    operation = django_filters.CharFilter(max_length=128)
    status = django_filters.ChoiceFilter(choices=AuditLog.Status.choices)
    resource_type = django_filters.CharFilter(max_length=64)
    resource_id = django_filters.CharFilter(max_length=128)
    created_after = InstantFilter(
        field_name="created_at",
        lookup_expr="gte",
        param="created_after",
        help_text="Rows written at or after this instant (ISO 8601; a date is the start of "
        "that day in your time zone).",
    )
    created_before = InstantFilter(
        field_name="created_at",
        lookup_expr="lt",
        param="created_before",
        end_of_day=True,
        help_text="Rows written before this instant (ISO 8601; a date includes that day).",
    )

    class Meta:
        model = AuditLog
        fields: list[str] = []


class ActionLogFilterSet(OwnedFilterSet):
    state = django_filters.ChoiceFilter(choices=ActionLog.State.choices)
    event_type = django_filters.CharFilter(max_length=64)

    class Meta:
        model = ActionLog
        fields: list[str] = []


@extend_schema(tags=["audit"])
class AuditLogViewSet(OwnedReadOnlyModelViewSet[AuditLog]):
    """What the system did, newest first, in stable cursor pages. Never changed."""

    queryset = AuditLog.objects.all()
    serializer_class = AuditLogSerializer
    filterset_class = AuditLogFilterSet
    pagination_class = CursorPagination
    search_fields = ["message"]
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]


CLOSED = error_response(409, "The item is already resolved or dismissed.")


@extend_schema(tags=["audit"])
class ActionLogViewSet(OwnedReadOnlyModelViewSet[ActionLog]):
    """What needs a human: unresolved overlaps, uncategorised meetings, failed uploads, ..."""

    queryset = ActionLog.objects.all()
    serializer_class = ActionLogSerializer
    filterset_class = ActionLogFilterSet
    search_fields = ["description"]
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]

    @extend_schema(
        request=ResolveSerializer,
        responses={200: ActionLogSerializer, 409: CLOSED},
    )
    @action(detail=True, methods=["post"], serializer_class=ResolveSerializer)
    def resolve(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        """Resolve the item; for an overlap, `keep` chooses the appointments that stay."""
        item = self._open_item()
        body = ResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        keep = body.validated_data.get("keep")
        decision = body.validated_data.get("decision")
        if item.event_type == ActionLog.EventType.SOURCE_DELETED:
            if decision is None:
                raise serializers.ValidationError(
                    {"decision": ["Say whether it happened: 'happened' or 'did_not_happen'."]}
                )
            try:
                item_resolve(
                    event_type=ActionLog.EventType.SOURCE_DELETED,
                    choice=decision,
                    item=item,
                    by=request.user,
                )
            except ResolutionFailed as error:
                raise serializers.ValidationError({"decision": [str(error)]}) from error
        elif decision is not None:
            raise serializers.ValidationError(
                {"decision": ["Only a source_deleted item takes a decision."]}
            )
        elif keep is None:
            self._close(item, ActionLog.State.RESOLVED)
        else:
            try:
                item_resolve(
                    event_type=ActionLog.EventType.OVERLAP,
                    choice="keep",
                    item=item,
                    by=request.user,
                    keep_ids=keep,
                )
            except ResolutionFailed as error:
                raise serializers.ValidationError({"keep": [str(error)]}) from error
        item.refresh_from_db()
        return Response(ActionLogSerializer(item, context={"request": request}).data)

    @extend_schema(request=None, responses={200: ActionLogSerializer, 409: CLOSED})
    @action(detail=True, methods=["post"])
    def dismiss(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        """Dismiss the item: nothing needs doing."""
        item = self._open_item()
        self._close(item, ActionLog.State.DISMISSED)
        item.refresh_from_db()
        return Response(ActionLogSerializer(item, context={"request": request}).data)

    def _open_item(self) -> ActionLog:
        item = self.get_object()
        if item.state != ActionLog.State.OPEN:
            raise Conflict(f"This item is already {item.get_state_display().lower()}.")
        return item

    def _close(self, item: ActionLog, state: ActionLogState) -> None:
        changed = action_log_close(
            items=ActionLog.objects.filter(pk=item.pk), state=state, user=self.request.user
        )
        if not changed:
            raise Conflict("This item was closed meanwhile.")
