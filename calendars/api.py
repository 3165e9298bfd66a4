"""REST API for calendars, locations, categories and appointments."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from calendars.models import (
    CATEGORIES_MAX,
    Appointment,
    Calendar,
    Category,
    Location,
    category_names,
)
from calendars.services import categories_sync
from foundations.api.exceptions import Conflict, microsoft_api_error
from foundations.api.filters import IdFilter, InstantFilter, OwnedFilterSet
from foundations.api.pagination import CursorPagination
from foundations.api.schema import error_response
from foundations.api.serializers import OwnedModelSerializer
from foundations.api.viewsets import OwnedModelViewSet
from foundations.requests import AuthenticatedRequest


class CalendarSerializer(OwnedModelSerializer):
    class Meta:
        model = Calendar
        fields = [
            "id",
            "user",
            "name",
            "description",
            "ms_calendar_id",
            "is_archive",
            "created_at",
            "updated_at",
        ]


class LocationSerializer(OwnedModelSerializer):
    class Meta:
        model = Location
        fields = ["id", "user", "name", "address"]


class CategorySerializer(OwnedModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "user", "name", "description", "ms_category_id", "color", "is_internal"]


class CategorySyncSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class ArchiveCopySerializer(serializers.Serializer):
    """Where the appointment was copied (read-only; archive runs write these)."""

    calendar = serializers.IntegerField(source="destination_id")
    calendar_name = serializers.CharField(source="destination.name")
    event_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CategoryNamesField(serializers.ListField):
    """Category names in; on the way out, only the names a stored row really holds."""

    def to_representation(self, data: Any) -> list[str]:
        return list(category_names(data))


class AppointmentSerializer(OwnedModelSerializer):
    archive_copies = ArchiveCopySerializer(many=True, read_only=True)
    categories = CategoryNamesField(
        child=serializers.CharField(max_length=255),
        max_length=CATEGORIES_MAX,
        required=False,
        help_text="Outlook category names, in Outlook's order.",
    )
    locked = serializers.SerializerMethodField(
        help_text="Billed on an issued timesheet: changes answer 409 until it is void."
    )

    class Meta:
        model = Appointment
        fields = [
            "id",
            "user",
            "subject",
            "start_time",
            "end_time",
            "is_all_day",
            "customer",
            "billing_type",
            "billable_override",
            "is_travel",
            "category",
            "categories",
            "timesheet",
            "locked",
            "overlap_state",
            "overlap_reason",
            "calendar",
            "location",
            "show_as",
            "importance",
            "sensitivity",
            "is_private",
            "is_out_of_office",
            "is_archived",
            "is_cancelled",
            "source_deleted_at",
            "archive_copies",
            "ms_event_id",
            "recurrence",
            "created_at",
            "updated_at",
        ]

    def get_locked(self, appointment: Appointment) -> bool:
        return appointment.is_locked


class CalendarFilterSet(OwnedFilterSet):
    class Meta:
        model = Calendar
        fields = ["is_archive"]


class LocationFilterSet(OwnedFilterSet):
    class Meta:
        model = Location
        fields: list[str] = []


class CategoryFilterSet(OwnedFilterSet):
    class Meta:
        model = Category
        fields: list[str] = []


class AppointmentFilterSet(OwnedFilterSet):
    # An appointment belongs to the period it starts in, the rule timesheets bill by; it also
    # lets the (user, start_time) index serve a month's page without scanning the history.
    start = InstantFilter(
        field_name="start_time",
        lookup_expr="gte",
        param="start",
        help_text="Appointments that start at or after this instant (ISO 8601 datetime; naive = "
        "UTC) or the start of this date in your time zone (2025-05-01).",
    )
    end = InstantFilter(
        field_name="start_time",
        lookup_expr="lt",
        param="end",
        end_of_day=True,
        help_text="Appointments that start before this instant (ISO 8601 datetime; naive = UTC) "
        "or the end of this date in your time zone (2025-05-31 includes the 31st).",
    )
    customer = django_filters.CharFilter(
        lookup_expr="iexact", max_length=255, help_text="Billing customer, ignoring case."
    )
    billing_type = django_filters.ChoiceFilter(choices=Appointment.BillingType.choices)
    category = IdFilter(field_name="category", help_text="Category id.")
    timesheet = IdFilter(field_name="timesheet", help_text="Timesheet id.")
    is_archived = django_filters.BooleanFilter()
    is_private = django_filters.BooleanFilter()
    source_deleted = django_filters.BooleanFilter(
        field_name="source_deleted_at",
        lookup_expr="isnull",
        exclude=True,
        help_text="true: archived, then deleted in Outlook (still billed until you decide).",
    )

    class Meta:
        model = Appointment
        fields: list[str] = []


@extend_schema(tags=["calendars"])
class CalendarViewSet(OwnedModelViewSet[Calendar]):
    """Your Outlook calendars (sources and archives)."""

    queryset = Calendar.objects.all()
    serializer_class = CalendarSerializer
    filterset_class = CalendarFilterSet
    search_fields = ["name"]
    ordering_fields = ["name", "id", "created_at"]
    ordering = ["name", "id"]

    @extend_schema(
        request=None,
        responses={
            200: CategorySyncSerializer,
            409: error_response(409, "Microsoft 365 is not configured, or not connected."),
            502: error_response(502),
        },
        tags=["categories"],
    )
    @action(detail=False, methods=["post"], url_path="sync-categories")
    def sync_categories(self, request: AuthenticatedRequest) -> Response:
        """Copy your Outlook master categories into categories (matched by id, then name)."""
        try:
            result = categories_sync(user=request.user)
        except Exception as error:
            raise microsoft_api_error(error) from error
        return Response(CategorySyncSerializer(result).data)


@extend_schema(tags=["locations"])
class LocationViewSet(OwnedModelViewSet[Location]):
    """Your appointments' locations."""

    queryset = Location.objects.all()
    serializer_class = LocationSerializer
    filterset_class = LocationFilterSet
    search_fields = ["name", "address"]
    ordering_fields = ["name", "id"]
    ordering = ["name", "id"]


@extend_schema(tags=["categories"])
class CategoryViewSet(OwnedModelViewSet[Category]):
    """Your Outlook categories; `Acme - billable` style names carry the billing customer."""

    queryset = Category.objects.all()
    serializer_class = CategorySerializer
    filterset_class = CategoryFilterSet
    search_fields = ["name", "description"]
    ordering_fields = ["name", "id"]
    ordering = ["name", "id"]


LOCKED = error_response(
    409, "The appointment is billed on an issued timesheet: void the timesheet first."
)


@extend_schema_view(
    update=extend_schema(responses={200: AppointmentSerializer, 409: LOCKED}),
    partial_update=extend_schema(responses={200: AppointmentSerializer, 409: LOCKED}),
    destroy=extend_schema(responses={204: None, 409: LOCKED}),
)
@extend_schema(tags=["appointments"])
class AppointmentViewSet(OwnedModelViewSet[Appointment]):
    """Your archived appointments, oldest first, in stable cursor pages (50 by default, at most
    200 with `page_size`)."""

    queryset = Appointment.objects.defer("ms_event_data").prefetch_related(
        "archive_copies__destination"
    )
    serializer_class = AppointmentSerializer
    filterset_class = AppointmentFilterSet
    pagination_class = CursorPagination
    search_fields = ["subject"]
    ordering_fields = ["start_time", "end_time", "created_at", "updated_at", "id"]
    ordering = ["start_time", "id"]

    def get_object(self) -> Appointment:
        appointment = super().get_object()
        if self.action in ("update", "partial_update", "destroy") and appointment.is_locked:
            raise Conflict(
                f"This appointment is billed on timesheet {appointment.timesheet_id}: "
                "void that timesheet to change or delete it."
            )
        return appointment
