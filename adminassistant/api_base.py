"""REST API plumbing every app's API shares: owner-scoped viewsets and serializers, strict
input, errors, filters, and the OpenAPI description of it all. The classes REST_FRAMEWORK names
in settings (authentication, parser, pagination, throttle) are in `api_defaults.py`.

Apps keep their serializers and views in `<app>/api.py`; the router is in `adminassistant/api.py`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import django_filters
from django import forms
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import exceptions, serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.models import User
from adminassistant.api_defaults import RequestTooLarge
from adminassistant.days import day_start_utc
from adminassistant.inputs import DATE_MAX, DATE_MIN, DATE_RANGE_MESSAGE
from auditing.services import api_write_audit, audited_update

# -- authentication ------------------------------------------------------------------------


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "adminassistant.api_defaults.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token, created (and revoked) in the admin under "
            "API tokens. `Token <key>` is accepted too.",
        }


# -- input ---------------------------------------------------------------------------------


class StrictFieldsMixin:
    """Refuses keys the serializer does not know, instead of silently ignoring them."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(str(name) for name in data if name not in self.fields)
            if unknown:
                writable = ", ".join(
                    name for name, field in self.fields.items() if not field.read_only
                )
                raise serializers.ValidationError(
                    {
                        name: [f"Unknown field. The fields you can send are: {writable}."]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


class UTCDateTimeField(serializers.DateTimeField):
    """Datetimes in and out of the API are UTC (ISO 8601); naive input is taken as UTC."""

    def default_timezone(self) -> tzinfo:
        return UTC


def django_errors(error: DjangoValidationError) -> Any:
    """A model ValidationError as DRF's {field: [messages]} with the non-field key renamed."""
    if hasattr(error, "error_dict"):
        return {
            (api_settings.NON_FIELD_ERRORS_KEY if field == "__all__" else field): messages
            for field, messages in error.message_dict.items()
        }
    return {api_settings.NON_FIELD_ERRORS_KEY: error.messages}


class OwnedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A link to one of the requester's own rows; another user's id is refused as unknown."""

    default_error_messages = {
        "does_not_exist": "You have no {model} with the id {pk_value}.",
    }

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()
        request = self.context.get("request")
        if request is None:
            return queryset.none()
        return queryset.for_user(request.user)

    def fail(self, key: str, **kwargs: Any) -> None:
        kwargs.setdefault("model", self.queryset.model._meta.verbose_name)
        super().fail(key, **kwargs)


def request_user(serializer: serializers.Serializer) -> Any:
    request = serializer.context.get("request")
    return getattr(request, "user", None)


class FastRepresentationMixin:
    """Reads plain attributes straight off the instance when listing many rows.

    DRF's generic `to_representation` resolves every field's source for every row; for list
    pages that is most of the request's time. The plan is built once per serializer, and any
    field with a dotted or `*` source keeps DRF's own path.
    """

    def to_representation(self, instance: Any) -> dict[str, Any]:
        plan = self.__dict__.get("_representation_plan")
        if plan is None:
            plan = self._representation_plan = self._plan()
        if plan is False:
            return super().to_representation(instance)
        row = {}
        for name, attribute, convert in plan:
            value = getattr(instance, attribute) if attribute else convert(instance)
            row[name] = (
                value if value is None or convert is None or not attribute else convert(value)
            )
        return row

    def _plan(self) -> list[tuple[str, str | None, Any]] | bool:
        plan: list[tuple[str, str | None, Any]] = []
        for field in self._readable_fields:
            if isinstance(field, serializers.SerializerMethodField):
                plan.append((field.field_name, None, getattr(self, field.method_name)))
            elif "." in field.source or field.source == "*":
                return False
            elif isinstance(field, serializers.PrimaryKeyRelatedField):
                if not field.use_pk_only_optimization():
                    return False
                plan.append((field.field_name, f"{field.source}_id", None))
            elif type(field) is serializers.ListField:
                plan.append((field.field_name, field.source, list))
            else:
                plan.append((field.field_name, field.source, field.to_representation))
        return plan


class OwnedModelSerializer(FastRepresentationMixin, StrictFieldsMixin, serializers.ModelSerializer):
    """A row that belongs to a user.

    `user` is the signed-in user for everyone but superusers, who may choose it. Validation runs
    the model's `full_clean()` (field validators, `clean()`, constraints), so what the admin form
    refuses is refused here with 400 and field messages, never by the database as a 500.
    """

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: UTCDateTimeField,
    }
    serializer_related_field = OwnedPrimaryKeyRelatedField

    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        required=False,
        help_text="The owner. Superusers may choose it; for everyone else it is the signed-in "
        "user and anything sent is ignored.",
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        user = request_user(self)
        if "user" in fields and not getattr(user, "is_superuser", False):
            fields["user"].read_only = True
        return fields

    def get_validators(self) -> list[Any]:
        # Unique constraints are checked by full_clean() in validate(), owner included.
        return []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if self.instance is None and "user" not in attrs:
            attrs["user"] = request_user(self)
        candidate = copy.copy(self.instance) if self.instance is not None else self.Meta.model()
        for name, value in attrs.items():
            setattr(candidate, name, value)
        try:
            candidate.full_clean()
        except DjangoValidationError as error:
            raise serializers.ValidationError(django_errors(error)) from error
        return attrs


# -- output --------------------------------------------------------------------------------


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "The object's state does not allow this."
    default_code = "conflict"


class BadGateway(exceptions.APIException):
    status_code = 502
    default_detail = "Microsoft 365 did not answer as expected."
    default_code = "bad_gateway"


def microsoft_api_error(error: Exception) -> exceptions.APIException:
    """A Microsoft 365 failure as an API error: 409 when the account's set-up is what is
    missing (not configured, not connected, reconnect needed), 502 when Microsoft failed.
    Anything else is a programming error and is raised as it is."""
    from accounts.microsoft import (
        MicrosoftNotConfigured,
        MicrosoftNotConnected,
        MicrosoftReconnectRequired,
        microsoft_problem,
    )

    problem = microsoft_problem(error)
    if problem is None:
        raise error
    if isinstance(
        error, MicrosoftNotConfigured | MicrosoftNotConnected | MicrosoftReconnectRequired
    ):
        return Conflict(problem)
    return BadGateway(problem)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Any:
    """DRF's handler, plus model validation errors as 400 and lost races on a unique
    constraint as 409, so neither becomes a 500."""
    if isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge(
            f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
        )
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(django_errors(exc))
    elif isinstance(exc, IntegrityError):
        exc = Conflict("The change conflicts with another row; reload and try again.")
    return drf_exception_handler(exc, context)


# -- filters -------------------------------------------------------------------------------


class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class OwnedFilterSet(django_filters.FilterSet):
    user = IdFilter(
        field_name="user", help_text="Only this user's rows (useful to superusers, who see all)."
    )


class DateOrDateTimeField(forms.Field):
    """An ISO 8601 date (2025-05-01) or datetime (2025-05-01T09:00:00+01:00)."""

    default_error_messages = {
        "invalid": "Enter an ISO 8601 date (2025-05-01) or datetime (2025-05-01T09:00:00Z).",
    }

    def to_python(self, value: Any) -> date | datetime | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            return datetime.fromisoformat(text)
        except ValueError as error:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from error


@extend_schema_field(
    {
        "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}],
        "example": "2025-05-01",
    }
)
class InstantFilter(django_filters.Filter):
    """A date or datetime taken as an instant: naive datetimes are UTC; a date is the start of
    that day in the requester's time zone, or its end when `end_of_day` is set."""

    field_class = DateOrDateTimeField

    def __init__(self, *args: Any, param: str, end_of_day: bool = False, **kwargs: Any) -> None:
        self.param = param
        self.end_of_day = end_of_day
        super().__init__(*args, **kwargs)

    def instant(self, value: date | datetime) -> datetime:
        day = value.date() if isinstance(value, datetime) else value
        if not DATE_MIN <= day <= DATE_MAX:
            raise exceptions.ValidationError({self.param: [DATE_RANGE_MESSAGE]})
        try:
            if isinstance(value, datetime):
                aware = value if timezone.is_aware(value) else value.replace(tzinfo=UTC)
                return aware.astimezone(UTC)
            zone = getattr(self.parent.request.user, "timezone", None) or "UTC"
            day = value + timedelta(days=1) if self.end_of_day else value
            return day_start_utc(day, zone)
        except (OverflowError, ValueError) as error:
            raise exceptions.ValidationError(
                {self.param: ["This date is outside the range the API can handle."]}
            ) from error

    def filter(self, queryset: QuerySet, value: Any) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(**{f"{self.field_name}__{self.lookup_expr}": self.instant(value)})


# -- views ---------------------------------------------------------------------------------


class OwnedQuerysetMixin:
    """The requester's own rows (superusers: everyone's); another user's row answers 404."""

    throttle_scope = "api"

    def get_queryset(self) -> QuerySet:
        return super().get_queryset().for_user(self.request.user)


class OwnedReadOnlyModelViewSet(OwnedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class OwnedModelViewSet(OwnedQuerysetMixin, viewsets.ModelViewSet):
    """CRUD on the requester's own rows.

    Every create, update and delete writes an AuditLog row with the request's correlation id.
    Subclasses with workflows to run after a write override `after_save` / `after_delete`.
    """

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        with transaction.atomic(using="default"):
            instance = serializer.save()
            self.audit(instance, "create", sorted(serializer.validated_data))
        self.after_save(instance)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        instance = audited_update(write=serializer, user=self.request.user)
        self.after_save(instance)

    def perform_destroy(self, instance: Model) -> None:
        pk = instance.pk
        with transaction.atomic(using="default"):
            self.audit(instance, "delete", [])
            instance.delete()
        instance.pk = pk
        self.after_delete(instance)

    def after_save(self, instance: Model) -> None:
        """Hook for workflows that follow a write (schedules, ...)."""

    def after_delete(self, instance: Model) -> None:
        """Hook for workflows that follow a delete."""

    def audit(self, instance: Model, operation: str, fields: list[str]) -> None:
        api_write_audit(
            user=self.request.user, instance=instance, operation=operation, fields=fields
        )


# -- OpenAPI -------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, for a person to read.")

    class Meta:
        ref_name = "Error"


VALIDATION_ERROR = {
    "type": "object",
    "description": "Field name → list of messages (`non_field_errors` for the object as a "
    "whole; nested objects for the items of a list), or `detail` for a body that is not "
    "valid JSON.",
    "additionalProperties": {},
    "example": {"end_time": ["The end time must be after the start time."]},
}

ERROR_DESCRIPTIONS = {
    400: "Invalid input; nothing was written.",
    401: "Not authenticated: no credentials, or an unknown, revoked or expired API token.",
    403: "Refused: a session request without a valid CSRF token.",
    404: "Not found among your rows (another user's object answers 404 too), or an invalid "
    "page or cursor.",
    409: "The object's state does not allow this.",
    413: "The request body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE.",
    415: "Unsupported media type: send JSON (Content-Type: application/json).",
    429: "Too many requests; retry after the number of seconds in Retry-After.",
    502: "Microsoft 365 did not answer as expected.",
}


def error_response(code: int, description: str | None = None) -> OpenApiResponse:
    """An error response for @extend_schema(responses=...)."""
    body = VALIDATION_ERROR if code == 400 else ErrorSerializer
    return OpenApiResponse(body, description=description or ERROR_DESCRIPTIONS[code])


class AutoSchema(SpectacularAutoSchema):
    """Adds the error responses every endpoint can give (400, 401, 403, 404, 413, 415, 429)
    to what drf-spectacular infers; views declare the rest (409, 502) with @extend_schema."""

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            responses.setdefault(
                str(code),
                self._get_response_for_code(
                    error_response(code), str(code), ["application/json"], direction
                ),
            )
        return responses

    def _error_codes(self) -> list[int]:
        view = self.view
        public = any(isinstance(p, AllowAny) for p in view.get_permissions())
        writes = self.method in ("POST", "PUT", "PATCH", "DELETE")
        codes = []
        if self.method in ("POST", "PUT", "PATCH"):
            codes += [400, 413, 415]
        elif self._is_list_view() and getattr(view, "filterset_class", None):
            codes.append(400)
        if not public:
            codes.append(401)
        if writes:
            codes.append(403)
        if "{" in self.path or self._is_list_view():
            codes.append(404)
        if getattr(view, "throttle_scope", None):
            codes.append(429)
        return codes
