"""REST API for calendars, locations, categories and appointments."""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.db.models import Model, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from calendars.fields import (
    APPOINTMENT_BILLING,
    APPOINTMENT_OUTLOOK,
    APPOINTMENT_STAMPS,
    APPOINTMENT_WHEN,
)
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
from foundations.api.serializers import (
    OwnedModelSerializer,
    UTCDateTimeField,
    utc_datetime_conversion,
)
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


# Describes the schema; `archive_copy_representation` writes the rows.
class ArchiveCopySerializer(serializers.Serializer):
    """Where the appointment was copied (read-only; archive runs write these)."""

    calendar = serializers.IntegerField(source="destination_id")
    calendar_name = serializers.CharField(source="destination.name")
    event_id = serializers.CharField()
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()


# Copies' times are UTC like every datetime of the API (not the signed-in user's zone).
_COPY_TIME = utc_datetime_conversion(UTCDateTimeField())
# Lists read an appointment's copies into this attribute, as rows of these columns.
ARCHIVE_COPY_LIST = "archive_copy_list"
ARCHIVE_COPY_COLUMNS = (
    "appointment_id",
    "destination_id",
    "destination__name",
    "event_id",
    "created_at",
    "updated_at",
)


def archive_copy_rows(appointment_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The copies of these appointments, oldest destination first, in one query of plain rows:
    a page of 50 built 150 model instances (copy, calendar) and a related manager per row
    through Django's prefetch, which cost more than the page's own rows."""
    # ArchiveCopy lives in archiving, above this app: reached through the reverse relation.
    model = cast(type[Model], Appointment._meta.get_field("archive_copies").related_model)
    copies = model._default_manager
    found: dict[int, list[dict[str, Any]]] = {pk: [] for pk in appointment_ids}
    for row in (
        copies.filter(appointment_id__in=appointment_ids)
        .order_by("appointment_id", "destination_id")
        .values(*ARCHIVE_COPY_COLUMNS)
    ):
        found[row["appointment_id"]].append(row)
    return found


def archive_copy_representation(copy: dict[str, Any]) -> dict[str, Any]:
    """One copy (a row of ARCHIVE_COPY_COLUMNS) as ArchiveCopySerializer describes it."""
    return {
        "calendar": copy["destination_id"],
        "calendar_name": copy["destination__name"],
        "event_id": copy["event_id"],
        "created_at": _COPY_TIME(copy["created_at"]),
        "updated_at": _COPY_TIME(copy["updated_at"]),
    }


class CategoryNamesField(serializers.ListField):
    """Category names in; on the way out, only the names a stored row really holds."""

    def to_representation(self, data: Any) -> list[str]:
        return list(category_names(data))


class AppointmentSerializer(OwnedModelSerializer):
    archive_copies = serializers.SerializerMethodField(
        help_text="Where the appointment was copied (read-only; archive runs write these)."
    )
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
        # The admin's fields (calendars/fields.py), with the API's own views of the row.
        fields = [
            "id",
            *APPOINTMENT_WHEN,
            *APPOINTMENT_BILLING,
            "locked",
            *APPOINTMENT_OUTLOOK,
            "is_cancelled",
            "archive_copies",
            *APPOINTMENT_STAMPS,
        ]

    def get_locked(self, appointment: Appointment) -> bool:
        return appointment.is_locked

    @extend_schema_field(ArchiveCopySerializer(many=True))
    def get_archive_copies(self, appointment: Appointment) -> list[dict[str, Any]]:
        # Lists read the copies of the whole page at once (AppointmentViewSet); a single
        # appointment (read, created or changed) reads its own here.
        copies = getattr(appointment, ARCHIVE_COPY_LIST, None)
        if copies is None:
            copies = archive_copy_rows([appointment.pk])[appointment.pk]
        return [archive_copy_representation(copy) for copy in copies]


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

    queryset = Appointment.objects.defer("ms_event_data")
    serializer_class = AppointmentSerializer
    filterset_class = AppointmentFilterSet
    pagination_class = CursorPagination
    search_fields = ["subject"]
    ordering_fields = ["start_time", "end_time", "created_at", "updated_at", "id"]
    ordering = ["start_time", "id"]

    def paginate_queryset(self, queryset: QuerySet[Any]) -> Any:
        page = super().paginate_queryset(queryset)
        if page is not None:
            copies = archive_copy_rows([appointment.pk for appointment in page])
            for appointment in page:
                setattr(appointment, ARCHIVE_COPY_LIST, copies[appointment.pk])
        return page

    def get_object(self) -> Appointment:
        appointment = super().get_object()
        if self.action in ("update", "partial_update", "destroy") and appointment.is_locked:
            raise Conflict(
                f"This appointment is billed on timesheet {appointment.timesheet_id}: "
                "void that timesheet to change or delete it."
            )
        return appointment
