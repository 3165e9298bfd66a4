"""REST API for timesheets: generate (issue and lock), download, void, upload to OneDrive, send
to Xero."""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.db.models import F, QuerySet
from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from foundations.api.exceptions import (
    Conflict,
    Gone,
    ServiceUnavailable,
    microsoft_api_error,
)
from foundations.api.filters import OwnedFilterSet
from foundations.api.schema import error_response
from foundations.api.serializers import OwnedModelSerializer, StrictFieldsMixin, request_user
from foundations.api.viewsets import OwnedModelViewSet, OwnedQuerysetMixin
from foundations.downloads import attachment_response
from foundations.requests import AuthenticatedRequest
from timesheets.api_xero import TimesheetXeroMixin, XeroPushStateSerializer
from timesheets.billing import format_hours, format_money, period_label
from timesheets.models import CustomerSettings, Timesheet
from timesheets.presentation import timesheet_amount
from timesheets.services import (
    CONTENT_TYPES,
    FORMATS,
    TimesheetError,
    TimesheetFileGone,
    TimesheetStorageError,
    timesheet_file,
    timesheet_generate,
    timesheet_upload_onedrive,
    timesheet_void,
)

# A timesheet id no database will reach, so it appears in a reversed URL only where the id goes.
_PK_SLOT = "9223372036854775807"


class TimesheetSerializer(OwnedModelSerializer):
    files = serializers.SerializerMethodField(help_text="Download URLs of the PDF, CSV and Excel.")
    period = serializers.SerializerMethodField(
        help_text="The period and the time zone its days are counted in, e.g. "
        "1-31 May 2025, Europe/London."
    )
    amount = serializers.SerializerMethodField(
        help_text="The amount due as printed in its currency (`£1,234.50`); null when the "
        "timesheet was issued without a rate."
    )

    class Meta:
        model = Timesheet
        fields = [
            "id",
            "user",
            "customer",
            "start_date",
            "end_date",
            "period",
            "status",
            "voided_at",
            "uploaded_to_onedrive",
            "uploaded_to_xero",
            "onedrive_url",
            "currency",
            "hourly_rate",
            "travel_hourly_rate",
            "amount_total",
            "amount",
            "xero_invoice_id",
            "xero_invoice_number",
            "xero_invoice_url",
            "notes",
            "files",
            "created_at",
        ]
        read_only_fields = fields

    def get_period(self, timesheet: Timesheet) -> str:
        # The requester's own rows take their zone; a superuser's list reads each owner's zone
        # alongside its row (TimesheetViewSet.get_queryset).
        zone = getattr(timesheet, "owner_timezone", None)
        if zone is None:
            user = request_user(self)
            own = user is not None and user.pk == timesheet.user_id
            zone = cast(User, user).timezone if own else timesheet.user.timezone
        return period_label(timesheet.start_date, timesheet.end_date, zone)

    def get_amount(self, timesheet: Timesheet) -> str | None:
        return timesheet_amount(timesheet) or None

    def get_files(self, timesheet: Timesheet) -> dict[str, str]:
        pk = str(timesheet.pk)
        return {fmt: url.replace(_PK_SLOT, pk) for fmt, url in self._file_urls().items()}

    def _file_urls(self) -> dict[str, str]:
        """The download URLs with a placeholder for the id, resolved once per serializer (once
        a request): reversing three URLs for each row was most of a page's time."""
        urls = self.__dict__.get("_file_url_cache")
        if urls is None:
            request = self.context.get("request")
            urls = {fmt: reverse(f"api:timesheet-{fmt}", args=[_PK_SLOT]) for fmt in FORMATS}
            if request is not None:
                urls = {fmt: request.build_absolute_uri(url) for fmt, url in urls.items()}
            self._file_url_cache = urls
        return urls


class XeroPushSerializer(XeroPushStateSerializer):
    timesheet = TimesheetSerializer(help_text="The timesheet, with its Xero invoice.")

    class Meta(XeroPushStateSerializer.Meta):
        fields = [*XeroPushStateSerializer.Meta.fields, "timesheet"]


class TimesheetVoidSerializer(StrictFieldsMixin, serializers.Serializer):
    void_in_xero = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Also delete (draft) or void the timesheet's invoice in Xero.",
    )


class TimesheetGenerateSerializer(StrictFieldsMixin, serializers.Serializer):
    customer = serializers.CharField(max_length=255, help_text="The billing customer.")
    start = serializers.DateField(help_text="First day of the period (in the owner's time zone).")
    end = serializers.DateField(help_text="Last day of the period, included.")
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        required=False,
        help_text="Whose appointments are billed: superusers may choose; for everyone else it "
        "is the signed-in user and anything sent is ignored.",
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        if not getattr(request_user(self), "is_superuser", False):
            fields["user"].read_only = True
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        problems = Timesheet.period_errors(attrs["start"], attrs["end"])
        if problems:
            raise serializers.ValidationError(
                {name: [message] for name, message in problems.items()}
            )
        attrs.setdefault("user", request_user(self))
        return attrs


class TimesheetGeneratedSerializer(serializers.Serializer):
    timesheet = TimesheetSerializer()
    appointments = serializers.IntegerField(help_text="How many appointments were billed.")
    billable_hours = serializers.DecimalField(max_digits=12, decimal_places=2)
    billable = serializers.CharField(
        help_text="The billable total as the admin and the documents print it (`29.50 hrs`)."
    )
    currency = serializers.CharField(help_text="ISO 4217 code; empty without a rate.")
    amount_due = serializers.DecimalField(
        max_digits=14,
        decimal_places=3,
        allow_null=True,
        help_text="The amount due, the PDF's to the cent; null without a rate.",
    )
    amount = serializers.CharField(
        allow_null=True, help_text="The amount due as printed (`£1,234.50`); null without a rate."
    )
    late_items = serializers.IntegerField()
    blocked_by_conflicts = serializers.IntegerField()
    messages = serializers.ListField(child=serializers.CharField())


class OneDriveUploadSerializer(serializers.Serializer):
    files = serializers.ListField(child=serializers.CharField())
    timesheet = TimesheetSerializer()


class TimesheetFilterSet(OwnedFilterSet):
    customer = django_filters.CharFilter(lookup_expr="iexact", max_length=255)
    status = django_filters.ChoiceFilter(choices=Timesheet.Status.choices)
    start = django_filters.DateFilter(
        field_name="end_date", lookup_expr="gte", help_text="Periods that end on or after."
    )
    end = django_filters.DateFilter(
        field_name="start_date", lookup_expr="lte", help_text="Periods that start on or before."
    )

    class Meta:
        model = Timesheet
        fields: list[str] = []


def file_renderer(fmt: str) -> type[BaseRenderer]:
    """Lets a client ask for the file's own type in Accept. The view returns the file itself;
    what reaches this renderer is an error, which is still sent as JSON."""

    class FileRenderer(BaseRenderer):
        media_type = CONTENT_TYPES[fmt].split(";")[0]
        format = fmt
        charset = None

        def render(self, data: Any, accepted_media_type: Any = None, context: Any = None) -> Any:
            response = (context or {}).get("response")
            if response is not None:
                response["Content-Type"] = "application/json"
            return JSONRenderer().render(data)

    FileRenderer.__name__ = f"{fmt.upper()}FileRenderer"
    return FileRenderer


STATE_CONFLICT = error_response(409, "The timesheet is void.")


def download_schema(fmt: str) -> Any:
    return extend_schema(
        responses={
            (200, CONTENT_TYPES[fmt].split(";")[0]): OpenApiResponse(
                OpenApiTypes.BINARY, description=f"The timesheet's {fmt.upper()} file."
            ),
            409: error_response(409, "The timesheet's state does not allow this."),
            410: error_response(410, "The timesheet is void and this file is no longer stored."),
            503: error_response(503, "The document store cannot be read; try again shortly."),
        },
    )


@extend_schema(tags=["timesheets"])
class TimesheetViewSet(
    TimesheetXeroMixin,
    OwnedQuerysetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Your timesheets. POST issues one: it bills the customer's appointments of the period,
    locks them, and stores the PDF, CSV and Excel files. An issued timesheet is voided, never
    changed or deleted."""

    queryset = Timesheet.objects.select_related("user")
    serializer_class = TimesheetSerializer
    filterset_class = TimesheetFilterSet
    search_fields = ["customer"]
    ordering_fields = ["start_date", "end_date", "created_at", "id"]
    ordering = ["-start_date", "-id"]

    def get_queryset(self) -> QuerySet[Timesheet]:
        queryset = super().get_queryset()
        if self.action == "list":
            # A page needs only the owner's time zone (for `period`): joining the whole user
            # built a second model instance per row, half the page's time. Everyone but a
            # superuser sees only their own rows, in their own zone: no join at all.
            queryset = queryset.select_related(None)
            if self.request.user.is_superuser:
                return queryset.annotate(owner_timezone=F("user__timezone"))
        return queryset

    def get_throttles(self) -> list[Any]:
        if self.action == "create":
            self.throttle_scope = "timesheet-generate"
        return super().get_throttles()

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "create":
            return TimesheetGenerateSerializer
        return super().get_serializer_class()

    @extend_schema(
        request=TimesheetGenerateSerializer, responses={201: TimesheetGeneratedSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Issue a timesheet for a customer and period (like the admin's Generate timesheet)."""
        body = TimesheetGenerateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        try:
            generation = timesheet_generate(
                user=body.validated_data["user"],
                customer=body.validated_data["customer"],
                start=body.validated_data["start"],
                end=body.validated_data["end"],
            )
        except TimesheetError as error:
            raise serializers.ValidationError({"non_field_errors": [str(error)]}) from error
        data = generation.data
        answer = TimesheetGeneratedSerializer(
            {
                "timesheet": generation.timesheet,
                "appointments": generation.timesheet.appointments.count(),
                "billable_hours": data.billable_total,
                "billable": format_hours(data.billable_total),
                "currency": data.currency,
                "amount_due": data.amount_total if data.priced else None,
                "amount": format_money(data.amount_total, data.currency) if data.priced else None,
                "late_items": generation.late_items,
                "blocked_by_conflicts": generation.blocked_by_conflicts,
                "messages": generation.messages,
            },
            context={"request": request},
        )
        return Response(answer.data, status=status.HTTP_201_CREATED)

    def _download(self, fmt: str) -> HttpResponse:
        timesheet = self.get_object()
        try:
            name, content = timesheet_file(timesheet=timesheet, fmt=fmt)
        except TimesheetFileGone as error:
            raise Gone(str(error)) from error
        except TimesheetStorageError as error:
            raise ServiceUnavailable(str(error)) from error
        except TimesheetError as error:
            raise Conflict(str(error)) from error
        return attachment_response(content, name=name, content_type=CONTENT_TYPES[fmt])

    @download_schema("pdf")
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, file_renderer("pdf")])
    def pdf(
        self, request: AuthenticatedRequest, pk: str | None = None, format: str | None = None
    ) -> HttpResponse:
        """The timesheet as PDF."""
        return self._download("pdf")

    @download_schema("csv")
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, file_renderer("csv")])
    def csv(
        self, request: AuthenticatedRequest, pk: str | None = None, format: str | None = None
    ) -> HttpResponse:
        """The timesheet as CSV."""
        return self._download("csv")

    @download_schema("xlsx")
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, file_renderer("xlsx")])
    def xlsx(
        self, request: AuthenticatedRequest, pk: str | None = None, format: str | None = None
    ) -> HttpResponse:
        """The timesheet as an Excel workbook."""
        return self._download("xlsx")

    @extend_schema(
        request=TimesheetVoidSerializer, responses={200: TimesheetSerializer, 409: STATE_CONFLICT}
    )
    @action(detail=True, methods=["post"])
    def void(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        """Void the timesheet and release its appointments for a later one. A timesheet sent to
        Xero is voided once its invoice is deleted there, or with `void_in_xero`."""
        timesheet = self.get_object()
        body = TimesheetVoidSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        try:
            timesheet_void(
                timesheet=timesheet,
                user=request.user,
                void_in_xero=body.validated_data["void_in_xero"],
            )
        except TimesheetError as error:
            raise Conflict(str(error)) from error
        return Response(TimesheetSerializer(timesheet, context={"request": request}).data)

    @extend_schema(
        request=None,
        responses={
            200: OneDriveUploadSerializer,
            409: error_response(
                409, "The timesheet is void, or Microsoft 365 is not configured or connected."
            ),
            502: error_response(502, "OneDrive refused the upload; an action item was opened."),
        },
    )
    @action(detail=True, methods=["post"], url_path="upload-onedrive")
    def upload_onedrive(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        """Upload the timesheet's files to the owner's OneDrive; a failure opens an action item."""
        timesheet = self.get_object()
        try:
            files = timesheet_upload_onedrive(timesheet=timesheet, user=request.user)
        except TimesheetError as error:
            raise Conflict(str(error)) from error
        except Exception as error:
            raise microsoft_api_error(error) from error
        return Response(
            OneDriveUploadSerializer(
                {"files": files, "timesheet": timesheet}, context={"request": request}
            ).data
        )

    def xero_push_serializer(self) -> type[serializers.Serializer]:
        return XeroPushSerializer


class CustomerSettingsSerializer(OwnedModelSerializer):
    class Meta:
        model = CustomerSettings
        fields = [
            "id",
            "user",
            "customer",
            "display_name",
            "legal_name",
            "currency",
            "hourly_rate",
            "travel_rate",
            "travel_hourly_rate",
            "daily_cap",
            "rounding_interval",
            "rounding_mode",
            "onedrive_folder",
            "xero_contact_id",
            "xero_account_code",
            "xero_tax_type",
            "xero_item_code",
            "xero_line_per_row",
        ]


class CustomerSettingsFilterSet(OwnedFilterSet):
    class Meta:
        model = CustomerSettings
        fields: list[str] = []


@extend_schema(tags=["timesheets"])
class CustomerSettingsViewSet(OwnedModelViewSet[CustomerSettings]):
    """How each customer is billed: currency, rates, rounding, and the Xero invoice details. A
    negative or absurd rate or an unknown currency is a 400 and nothing is saved; issued
    timesheets keep the rates they were issued with."""

    queryset = CustomerSettings.objects.all()
    serializer_class = CustomerSettingsSerializer
    filterset_class = CustomerSettingsFilterSet
    search_fields = ["customer", "display_name", "legal_name"]
    ordering_fields = ["customer", "id"]
    ordering = ["customer", "id"]
