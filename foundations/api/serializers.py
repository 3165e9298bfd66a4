"""Serializers' shared pieces: strict input (unknown keys refused), UTC datetimes, links to the
requester's own rows, fast list representation, and the owned-row serializer that validates
with the model's `full_clean()`."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, tzinfo
from typing import TYPE_CHECKING, Any, Literal, NoReturn, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import QuerySet
from rest_framework import serializers

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


class FastRepresentationMixin(_SerializerBase):
    """Reads plain attributes straight off the instance when listing many rows.

    DRF's generic `to_representation` resolves every field's source for every row; for list
    pages that is most of the request's time. The plan is built once per serializer, and any
    field with a dotted or `*` source keeps DRF's own path.
    """

    def to_representation(self, instance: models.Model) -> dict[str, Any]:
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

    def _plan(self) -> list[tuple[str, str | None, Any]] | Literal[False]:
        plan: list[tuple[str, str | None, Any]] = []
        for field in self._readable_fields:
            # A bound field knows its name and has a source (a dotted path or "*").
            name, source = cast(str, field.field_name), cast(str, field.source)
            if isinstance(field, serializers.SerializerMethodField):
                plan.append((name, None, getattr(self, field.method_name)))
            elif "." in source or source == "*":
                return False
            elif isinstance(field, serializers.PrimaryKeyRelatedField):
                if not field.use_pk_only_optimization():
                    return False
                plan.append((name, f"{source}_id", None))
            elif type(field) is serializers.ListField:
                plan.append((name, source, list))
            else:
                plan.append((name, source, field.to_representation))
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
