"""Serializers' shared pieces: strict input (unknown keys refused), UTC datetimes, links to the
requester's own rows, fast list representation, and the owned-row serializer that validates
with the model's `full_clean()`."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, NoReturn, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import QuerySet
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from foundations.api.exceptions import django_errors
from foundations.models import OwnedQuerySet

if TYPE_CHECKING:
    # For mypy a serializer mixin is the serializer it is mixed into; at run time it adds no base.
    _SerializerBase = serializers.Serializer
else:
    _SerializerBase = object


class StrictFieldsMixin(_SerializerBase):
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

    def default_timezone(self) -> tzinfo:  # type: ignore[override]  # DRF takes a tzinfo here
        return UTC

    def to_representation(self, value: Any) -> Any:
        # The database hands back aware UTC datetimes: write them straight out, as DRF would
        # (ISO 8601, `Z` for UTC), without its time-zone round trip; a page has 150 of them.
        if (
            isinstance(value, datetime)
            and value.tzinfo is UTC
            and getattr(self, "format", api_settings.DATETIME_FORMAT) == ISO_8601
        ):
            text = value.isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        return super().to_representation(value)


class OwnedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A link to one of the requester's own rows; another user's id is refused as unknown."""

    default_error_messages = {
        "does_not_exist": "You have no {model} with the id {pk_value}.",
    }

    def get_queryset(self) -> QuerySet:
        # Owned serializers link owned rows: the field always has a queryset, an OwnedQuerySet.
        queryset = cast(OwnedQuerySet, super().get_queryset())
        request = self.context.get("request")
        if request is None:
            return queryset.none()
        return queryset.for_user(request.user)

    def fail(self, key: str, **kwargs: Any) -> NoReturn:
        if self.queryset is not None:
            kwargs.setdefault("model", self.queryset.model._meta.verbose_name)
        super().fail(key, **kwargs)


def request_user(serializer: serializers.Serializer) -> AbstractBaseUser | AnonymousUser | None:
    request = serializer.context.get("request")
    return getattr(request, "user", None)


_Plan = list[tuple[str, str | None, Any]]

# A serializer class's representation plan, built once per process (see below).
_CLASS_PLANS: dict[type, _Plan | Literal[False]] = {}


class FastRepresentationMixin(_SerializerBase):
    """Reads plain attributes straight off the instance when listing many rows.

    DRF's generic `to_representation` resolves every field's source for every row, and building
    a ModelSerializer's fields (field mapping, deep copies of the declared fields and their
    querysets) costs more than serializing a page of 50: the profile of the appointments list
    showed both. So the plan (which attribute, which conversion) is built once per serializer
    *class*, from an instance with no request, and every later serializer of that class reads
    the rows with it without building its fields at all. That is sound because a field's
    output does not depend on the request: the plan holds plain attributes, primary keys of
    links, lists and field conversions (which read only the active time zone, at call time);
    method fields are called on the live serializer, so they see its context. A field with a
    dotted or `*` source, a nested serializer or a non-pk link keeps DRF's own path. A
    serializer whose readable fields depend on the request sets `representation_plan_shared =
    False` and builds its plan per instance.
    """

    representation_plan_shared = True

    def to_representation(self, instance: models.Model) -> dict[str, Any]:
        plan = self.__dict__.get("_representation_plan")
        if plan is None:
            plan = self._representation_plan = self._shared_plan()
        if plan is False:
            return super().to_representation(instance)
        row = {}
        for name, attribute, convert in plan:
            if attribute is None:
                row[name] = getattr(self, convert)(instance)
                continue
            value = getattr(instance, attribute)
            row[name] = value if value is None or convert is None else convert(value)
        return row

    def _shared_plan(self) -> _Plan | Literal[False]:
        if not self.representation_plan_shared:
            return self._plan()
        cls = type(self)
        plan = _CLASS_PLANS.get(cls)
        if plan is None:
            plan = _CLASS_PLANS[cls] = cls()._plan()
        return plan

    def _plan(self) -> _Plan | Literal[False]:
        plan: _Plan = []
        for field in self._readable_fields:
            # A bound field knows its name and has a source (a dotted path or "*").
            name, source = cast(str, field.field_name), cast(str, field.source)
            if isinstance(field, serializers.SerializerMethodField):
                plan.append((name, None, field.method_name))
            elif "." in source or source == "*" or isinstance(field, serializers.BaseSerializer):
                return False
            elif isinstance(field, serializers.PrimaryKeyRelatedField):
                if not field.use_pk_only_optimization():
                    return False
                plan.append((name, f"{source}_id", None))
            elif isinstance(field, serializers.RelatedField | serializers.ManyRelatedField):
                return False
            elif type(field) is serializers.ListField:
                plan.append((name, source, list))
            else:
                plan.append((name, source, self._conversion(field, source)))
        return plan

    def _conversion(self, field: serializers.Field, source: str) -> Any:
        """What turns the attribute into its JSON value: nothing, where the model field already
        hands back exactly what DRF's field would write (a str for a CharField, a bool, an
        int), a direct ISO 8601 text for UTC datetimes, else the field's own conversion."""
        if isinstance(field, UTCDateTimeField):
            return utc_datetime_conversion(field)
        if type(field) is serializers.DecimalField:
            return decimal_conversion(field)
        if type(field) is serializers.DateField:
            return date_conversion(field)
        passes = _PASS_THROUGH.get(type(field))
        meta = getattr(getattr(self, "Meta", None), "model", None)
        if passes is not None and meta is not None:
            try:
                model_field = meta._meta.get_field(source)
            except FieldDoesNotExist:
                return field.to_representation
            if isinstance(model_field, passes) and not model_field.is_relation:
                return None
        return field.to_representation


# DRF fields whose `to_representation` returns a value of the model field's own type unchanged
# (CharField: str(value); ChoiceField: the stored choice; BooleanField: the bool; IntegerField:
# int(value)), for model fields that only ever hold that type: the plan skips the call.
_PASS_THROUGH: dict[type, tuple[type[models.Field], ...]] = {
    serializers.CharField: (models.CharField, models.TextField),
    serializers.ChoiceField: (models.CharField, models.IntegerField),
    serializers.BooleanField: (models.BooleanField,),
    serializers.IntegerField: (models.IntegerField,),
}


def utc_datetime_conversion(field: serializers.DateTimeField) -> Any:
    """ISO 8601 text of an aware UTC datetime, `Z` for UTC, as `UTCDateTimeField` writes it,
    without a method lookup per value; anything else goes through the field."""
    fallback = field.to_representation
    if getattr(field, "format", api_settings.DATETIME_FORMAT) != ISO_8601:
        return fallback

    def convert(value: Any) -> Any:
        if type(value) is datetime and value.tzinfo is UTC:
            text = value.isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        return fallback(value)

    return convert


def date_conversion(field: serializers.DateField) -> Any:
    """A date's ISO 8601 text, as DRF's DateField writes it where its format is ISO 8601,
    without a method lookup and a format check per value; anything else through the field."""
    fallback = field.to_representation
    output = getattr(field, "format", api_settings.DATE_FORMAT)
    if not isinstance(output, str) or output.lower() != ISO_8601:
        return fallback

    def convert(value: Any) -> Any:
        return value.isoformat() if type(value) is date else fallback(value)

    return convert


def decimal_conversion(field: serializers.DecimalField) -> Any:
    """The text DRF's DecimalField writes (`{:f}` of the value quantized to its places), without
    the quantize and its decimal context for a value the database already hands back at the
    column's scale (a timesheet page has three money columns a row): at its own scale the
    quantize changes nothing. Any other value, or a field that localizes, normalizes or writes
    numbers, goes through the field."""
    fallback = field.to_representation
    places = field.decimal_places
    if (
        places is None
        or field.localize
        or field.normalize_output
        or not getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
    ):
        return fallback

    def convert(value: Any) -> Any:
        if type(value) is Decimal and value.is_finite():
            _sign, digits, exponent = value.as_tuple()
            fits = field.max_digits is None or len(digits) <= field.max_digits
            if exponent == -places and fits:
                return f"{value:f}"
        return fallback(value)

    return convert


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
        queryset=get_user_model().objects.all(),
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
        model: type[models.Model] = self.Meta.model
        candidate = copy.copy(self.instance) if self.instance is not None else model()
        for name, value in attrs.items():
            setattr(candidate, name, value)
        try:
            candidate.full_clean()
        except DjangoValidationError as error:
            raise serializers.ValidationError(django_errors(error)) from error
        return attrs
