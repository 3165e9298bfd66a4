"""REST API for archive and job configurations, archive runs and their status."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from archiving.models import ArchiveConfiguration, ArchiveRun, JobConfiguration
from archiving.phrases import ACCEPTED_FORMS, DatePhraseError
from archiving.run_status import ArchiveRunStatus, archive_run_status
from archiving.schedules import configuration_schedules_sync, job_schedule_remove, job_schedule_sync
from archiving.services import archive_dates, archive_queue
from auditing.models import AuditLog
from foundations.api.filters import IdFilter, OwnedFilterSet
from foundations.api.serializers import (
    OwnedModelSerializer,
    StrictFieldsMixin,
    UTCDateTimeField,
    request_user,
)
from foundations.api.viewsets import OwnedModelViewSet
from foundations.requests import AuthenticatedRequest


class ArchiveConfigurationSerializer(OwnedModelSerializer):
    class Meta:
        model = ArchiveConfiguration
        fields = [
            "id",
            "user",
            "name",
            "source_calendar_uri",
            "destination_calendar_uri",
            "timezone",
            "is_active",
            "allow_overlaps",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "timezone": {
                "required": False,
                "help_text": "IANA time zone in which archive days start and end; "
                "defaults to the owner's time zone.",
            }
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None and not attrs.get("timezone"):
            owner = attrs.get("user") or request_user(self)
            attrs["timezone"] = getattr(owner, "timezone", None) or "UTC"
        return super().validate(attrs)


class JobConfigurationSerializer(OwnedModelSerializer):
    class Meta:
        model = JobConfiguration
        fields = [
            "id",
            "user",
            "archive_configuration",
            "schedule_type",
            "schedule_hour",
            "schedule_minute",
            "schedule_day_of_week",
            "archive_window_days",
            "is_active",
            "created_at",
            "updated_at",
        ]


class ArchiveRunRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    dates = serializers.CharField(
        default="yesterday",
        max_length=100,
        help_text="Which days to archive, as a date phrase; 'today' is taken in the "
        "configuration's time zone. Accepted: " + "; ".join(ACCEPTED_FORMS) + ".",
    )


class ArchiveQueuedSerializer(serializers.Serializer):
    task_id = serializers.CharField(
        allow_null=True,
        help_text="django-q2's task id: follow the run at archive-runs/{task_id}. Null only "
        "when the request ran inside a database transaction, which queues the run when it "
        "commits; follow it through the audit log by correlation id then.",
    )
    correlation_id = serializers.CharField(help_text="Carried by every audit row of the run.")
    dates = serializers.CharField(help_text="The days that will be archived.")
    status_url = serializers.CharField(allow_null=True)
    audit_log_url = serializers.CharField()


class AuditRowSerializer(serializers.ModelSerializer):
    created_at = UTCDateTimeField()

    class Meta:
        model = AuditLog
        fields = [
            "id",
            "action_type",
            "operation",
            "status",
            "message",
            "details",
            "parent_audit",
            "created_at",
        ]


class ArchiveRunStatusSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    status = serializers.ChoiceField(
        choices=[
            ArchiveRun.Status.QUEUED.value,
            ArchiveRun.Status.RUNNING.value,
            ArchiveRun.Status.SUCCESS.value,
            ArchiveRun.Status.FAILURE.value,
        ]
    )
    configuration = serializers.IntegerField(source="configuration_id", allow_null=True)
    start = serializers.DateField(source="dates.start")
    end = serializers.DateField(source="dates.end")
    correlation_id = serializers.CharField()
    queued_at = UTCDateTimeField()
    started_at = UTCDateTimeField(allow_null=True)
    finished_at = UTCDateTimeField(allow_null=True)
    result = serializers.JSONField(
        allow_null=True, help_text="The run's summary (status, counts, ...) once it succeeded."
    )
    error = serializers.CharField(allow_null=True, help_text="Why the task failed.")
    audit = serializers.SerializerMethodField(
        help_text="The run's audit rows (the first 200), oldest first."
    )

    @extend_schema_field(AuditRowSerializer(many=True))
    def get_audit(self, run: ArchiveRunStatus) -> list[dict]:
        rows = (
            AuditLog.objects.for_user(self.context["request"].user)
            .filter(correlation_id=run.correlation_id)
            .order_by("created_at", "id")[:200]
        )
        # many=True makes a ListSerializer, whose data is a list (the stubs say a dict).
        return AuditRowSerializer(rows, many=True).data  # type: ignore[return-value]


class ArchiveConfigurationFilterSet(OwnedFilterSet):
    class Meta:
        model = ArchiveConfiguration
        fields = ["is_active"]


class JobConfigurationFilterSet(OwnedFilterSet):
    archive_configuration = IdFilter(field_name="archive_configuration")
    schedule_type = django_filters.ChoiceFilter(choices=JobConfiguration.ScheduleType.choices)

    class Meta:
        model = JobConfiguration
        fields = ["is_active"]


@extend_schema(tags=["archiving"])
class ArchiveConfigurationViewSet(OwnedModelViewSet[ArchiveConfiguration]):
    """Which calendar is archived into which, and in what time zone days are counted. Changes
    move the django-q2 schedules of the configuration's jobs, as in the admin."""

    queryset = ArchiveConfiguration.objects.all()
    serializer_class = ArchiveConfigurationSerializer
    filterset_class = ArchiveConfigurationFilterSet
    search_fields = ["name"]
    ordering_fields = ["name", "id", "created_at"]
    ordering = ["name", "id"]

    def after_save(self, instance: ArchiveConfiguration) -> None:
        configuration_schedules_sync(configuration=instance)

    def perform_destroy(self, instance: ArchiveConfiguration) -> None:
        job_ids = list(instance.job_configurations.values_list("pk", flat=True))
        super().perform_destroy(instance)
        for job_id in job_ids:
            job_schedule_remove(job_id=job_id)

    @extend_schema(
        request=ArchiveRunRequestSerializer,
        responses={202: ArchiveQueuedSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        throttle_scope="archive-run",
        serializer_class=ArchiveRunRequestSerializer,
    )
    def run(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        """Queue an archive run of these days on the cluster (like the admin's Archive now)."""
        configuration = self.get_object()
        body = ArchiveRunRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            dates = archive_dates(configuration=configuration, phrase=body.validated_data["dates"])
        except DatePhraseError as error:
            raise serializers.ValidationError({"dates": [str(error)]}) from error
        queued = archive_queue(configuration=configuration, dates=dates, by=request.user)
        status_url = (
            request.build_absolute_uri(reverse("api:archive-run-detail", args=[queued.task_id]))
            if queued.task_id
            else None
        )
        audit_log_url = request.build_absolute_uri(
            reverse("api:audit-log-list") + f"?correlation_id={queued.correlation_id}"
        )
        data = {
            "task_id": queued.task_id,
            "correlation_id": queued.correlation_id,
            "dates": str(dates),
            "status_url": status_url,
            "audit_log_url": audit_log_url,
        }
        return Response(ArchiveQueuedSerializer(data).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["archiving"])
class JobConfigurationViewSet(OwnedModelViewSet[JobConfiguration]):
    """When an archive configuration runs on its own; each active job has a django-q2
    schedule that follows it."""

    queryset = JobConfiguration.objects.all()
    serializer_class = JobConfigurationSerializer
    filterset_class = JobConfigurationFilterSet
    ordering_fields = ["id", "created_at", "schedule_hour"]
    ordering = ["archive_configuration", "id"]

    def get_queryset(self) -> QuerySet[JobConfiguration]:
        return super().get_queryset().select_related("archive_configuration")

    def after_save(self, instance: JobConfiguration) -> None:
        job_schedule_sync(job=instance)

    def after_delete(self, instance: JobConfiguration) -> None:
        job_schedule_remove(job_id=instance.pk)


@extend_schema(tags=["archiving"])
class ArchiveRunViewSet(viewsets.ViewSet):
    """The status of a queued archive run."""

    throttle_scope = "api"
    lookup_field = "task_id"
    serializer_class = ArchiveRunStatusSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "task_id",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="The task id that POST archive-configurations/{id}/run returned.",
            )
        ],
        responses={200: ArchiveRunStatusSerializer},
    )
    def retrieve(
        self,
        request: AuthenticatedRequest,
        task_id: str | None = None,
        format: str | None = None,
    ) -> Response:
        """Queued, running, success or failure, with the run's summary and audit rows."""
        run = archive_run_status(task_id=task_id or "", user=request.user)
        if run is None:
            raise NotFound("You have no archive run with this task id.")
        return Response(ArchiveRunStatusSerializer(run, context={"request": request}).data)
