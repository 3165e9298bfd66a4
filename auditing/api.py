"""REST API for the audit log (read-only) and the action log (read, resolve, dismiss)."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from auditing.attention import (
    ApplyFailed,
    ItemChanged,
    RecommendationUnknown,
    action_items_at_stake,
    item_dismiss,
    recommendation_apply,
    recommendation_dismiss,
)
from auditing.models import ActionLog, ActionLogState, AuditLog
from auditing.recommendations import is_preselected
from auditing.resolutions import ResolutionFailed, item_resolve
from auditing.services import action_log_close
from foundations.api.exceptions import BadGateway, Conflict
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


class RecommendationSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Name it in `POST …/apply/` or `…/dismiss/`.")
    label = serializers.CharField()  # type: ignore[assignment]  # a field, as DRF declares
    action = serializers.CharField(help_text="The registered way of settling the item it runs.")
    params = serializers.DictField(help_text="The action's arguments.")
    confidence = serializers.FloatField(min_value=0, max_value=1)
    reason = serializers.CharField(help_text="Why, from your own history.")
    preselected = serializers.SerializerMethodField(
        help_text="Confident enough to be applied by 'apply the confident ones' "
        "(ATTENTION_CONFIDENCE_THRESHOLD)."
    )

    def get_preselected(self, value: dict) -> bool:
        return is_preselected(value)


class StakeSerializer(serializers.Serializer):
    hours = serializers.DecimalField(max_digits=12, decimal_places=2)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    currency = serializers.CharField(allow_blank=True)
    customer = serializers.CharField(allow_null=True)


RECOMMENDATION_KEYS = ("id", "label", "action", "params", "confidence", "reason")


class ActionLogSerializer(OwnedModelSerializer):
    # Written straight from the validated JSON (the shape RecommendationSerializer documents):
    # a nested serializer per recommendation cost more than the rest of the row.
    recommendations = serializers.SerializerMethodField()
    at_stake = serializers.SerializerMethodField(
        help_text="The unbilled money (or hours, without a rate) the item holds back; null "
        "when nothing billable waits on it."
    )

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
            "at_stake",
            "key",
            "closed_at",
            "closed_by",
            "resolution",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(RecommendationSerializer(many=True, allow_null=True))
    def get_recommendations(self, item: ActionLog) -> list[dict[str, Any]] | None:
        if item.recommendations is None:
            return None
        return [
            {
                **{key: value.get(key) for key in RECOMMENDATION_KEYS},
                "preselected": is_preselected(value),
            }
            for value in item.recommendations
        ]

    @extend_schema_field(StakeSerializer(allow_null=True))
    def get_at_stake(self, item: ActionLog) -> dict | None:
        stakes = self.context.get("stakes")
        if stakes is None:
            stakes = action_items_at_stake(items=[item])
        stake = stakes.get(item.pk)
        if stake is None:
            return None
        return {
            "hours": f"{stake.hours:.2f}",
            "amount": None if stake.amount is None else f"{stake.amount:.2f}",
            "currency": stake.currency,
            "customer": stake.customer,
        }


class ApplySerializer(StrictFieldsMixin, serializers.Serializer):
    recommendation = serializers.CharField(
        max_length=64, help_text="The id of one of the item's recommendations."
    )
    item_updated_at = serializers.DateTimeField(
        required=False,
        help_text="The item's `updated_at` as you saw it: 409 if it changed since.",
    )


class DismissSerializer(StrictFieldsMixin, serializers.Serializer):
    recommendation = serializers.CharField(
        max_length=64,
        required=False,
        help_text="Turn down only this recommendation (never offered again for this "
        "appointment); the item stays open. Leave out to dismiss the whole item.",
    )


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

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        page = getattr(self, "_page_items", None)
        if page is not None:
            context["stakes"] = action_items_at_stake(items=page)
        return context

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)
        self._page_items = list(page) if page is not None else None
        return page

    @extend_schema(
        request=ApplySerializer,
        responses={
            200: ActionLogSerializer,
            409: error_response(409, "The item is closed, or changed since you saw it."),
            502: error_response(502, "Microsoft 365 or Xero refused; the item stays open."),
        },
    )
    @action(detail=True, methods=["post"], serializer_class=ApplySerializer)
    def apply(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        """Carry out one of the item's recommendations (audited). A failure leaves the item
        open with the reason (`details.last_error`)."""
        item = self.get_object()
        body = ApplySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            recommendation_apply(
                item=item,
                recommendation_id=body.validated_data["recommendation"],
                by=request.user,
                seen_updated_at=body.validated_data.get("item_updated_at"),
            )
        except ItemChanged as error:
            raise Conflict(str(error)) from error
        except RecommendationUnknown as error:
            raise serializers.ValidationError({"recommendation": [str(error)]}) from error
        except ApplyFailed as error:
            if error.upstream:
                raise BadGateway(str(error)) from error
            raise serializers.ValidationError({"recommendation": [str(error)]}) from error
        item.refresh_from_db()
        return Response(ActionLogSerializer(item, context={"request": request}).data)

    @extend_schema(request=DismissSerializer, responses={200: ActionLogSerializer, 409: CLOSED})
    @action(detail=True, methods=["post"], serializer_class=DismissSerializer)
    def dismiss(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        """Dismiss the item (nothing needs doing), or with `recommendation` only that
        suggestion: it is not offered again for this appointment."""
        item = self._open_item()
        body = DismissSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        chosen = body.validated_data.get("recommendation")
        try:
            if chosen:
                recommendation_dismiss(item=item, recommendation_id=chosen, by=request.user)
            else:
                item_dismiss(item=item, by=request.user)
        except ItemChanged as error:
            raise Conflict(str(error)) from error
        except RecommendationUnknown as error:
            raise serializers.ValidationError({"recommendation": [str(error)]}) from error
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
