"""Hostile input answered with a clear error: strict JSON, bounded dates, safe admin widgets.

Everything that turns text into JSON (admin form fields, the API parser) uses `json_loads_strict`,
so NaN, Infinity, NUL characters, nesting past `JSON_MAX_DEPTH` and integers PostgreSQL or the
readers cannot hold are refused before anything is stored.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import jsonschema
from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ERROR_FLAG
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

JSON_MAX_DEPTH = 64
JSON_MAX_INT = 2**63 - 1

# One range for every date and datetime the product accepts (models, phrases, periods, filters).
DATE_MIN = dt.date(1970, 1, 1)
DATE_MAX = dt.date(2200, 12, 31)
DATE_RANGE_MESSAGE = f"Dates must be between {DATE_MIN.isoformat()} and {DATE_MAX.isoformat()}."


class JSONInputError(ValueError):
    """JSON text this product refuses to store, with a message for the user."""


def _refuse_constant(name: str) -> NoReturn:
    raise JSONInputError(f"{name} is not allowed in JSON (use a number or null).")


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > 19:
        raise JSONInputError(f"The number {text[:20]}… is too large.")
    value = int(text)
    if abs(value) > JSON_MAX_INT:
        raise JSONInputError(f"The number {text} is too large.")
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONInputError(f"The number {text[:20]} is too large.")
    return value


def json_check_value(value: Any) -> None:
    """Refuse Python JSON values the database or the readers cannot hold (iteratively)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > JSON_MAX_DEPTH:
            raise JSONInputError(f"JSON may be nested at most {JSON_MAX_DEPTH} levels deep.")
        if isinstance(item, str):
            if "\x00" in item:
                raise JSONInputError("JSON text may not contain the NUL character (\\u0000).")
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if abs(item) > JSON_MAX_INT:
                raise JSONInputError("A number in the JSON is too large.")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise JSONInputError("NaN and Infinity are not allowed in JSON.")
        elif isinstance(item, dict):
            for key, child in item.items():
                stack.append((key, depth))
                stack.append((child, depth + 1))
        elif isinstance(item, list | tuple):
            stack.extend((child, depth + 1) for child in item)


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth <= JSON_MAX_DEPTH:
                children = item.values() if isinstance(item, dict) else item
                stack.extend((child, depth + 1) for child in children)
    return deepest


def json_loads_strict(text: str | bytes, *, check_values: bool = True) -> Any:
    """`json.loads` that raises JSONInputError for NaN, Infinity and deep nesting and, with
    `check_values`, for anything else `json_check_value` refuses (the API leaves NUL and large
    numbers to its serializer fields, which name the field)."""
    try:
        if check_values:
            value = json.loads(
                text,
                parse_constant=_refuse_constant,
                parse_int=_parse_int,
                parse_float=_parse_float,
            )
        else:
            value = json.loads(text, parse_constant=_refuse_constant, parse_float=_parse_float)
    except ValueError as error:
        if isinstance(error, JSONInputError):
            raise
        raise JSONInputError(f"Not valid JSON: {error}") from None
    except RecursionError:
        raise JSONInputError(f"JSON may be nested at most {JSON_MAX_DEPTH} levels deep.") from None
    if check_values:
        json_check_value(value)
    elif _depth(value) > JSON_MAX_DEPTH:
        raise JSONInputError(f"JSON may be nested at most {JSON_MAX_DEPTH} levels deep.")
    return value


def validate_json_value(value: Any) -> None:
    """Model field validator: the value must be JSON the database and readers can hold."""
    try:
        json_check_value(value)
    except JSONInputError as error:
        raise ValidationError(str(error), code="invalid_json") from None


def json_schema_validator(schema: dict[str, Any]) -> Callable[[Any], None]:
    """A validator that checks a JSON value against `schema` with a short message."""
    checker = jsonschema.Draft202012Validator(schema)

    def validate(value: Any) -> None:
        validate_json_value(value)
        error = jsonschema.exceptions.best_match(checker.iter_errors(value))
        if error is not None:
            where = "/".join(str(part) for part in error.absolute_path)
            raise ValidationError(
                f"{schema.get('description', 'Invalid value')}"
                f"{f' (at {where})' if where else ''}: {error.message[:200]}",
                code="invalid_shape",
            )

    return validate


def validate_date_in_range(value: dt.date | dt.datetime | None) -> None:
    if value is None:
        return
    day = value.date() if isinstance(value, dt.datetime) else value
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValidationError(DATE_RANGE_MESSAGE, code="date_out_of_range")


class StrictJSONFormField(forms.JSONField):
    """The admin's JSON field: refuses NaN, NUL, deep nesting and huge numbers as a field error."""

    def to_python(self, value: Any) -> Any:
        if self.disabled:
            return value
        if value in self.empty_values:
            return None
        if isinstance(value, str):
            try:
                return json_loads_strict(value)
            except JSONInputError as error:
                raise ValidationError(str(error), code="invalid") from None
        try:
            json_check_value(value)
        except JSONInputError as error:
            raise ValidationError(str(error), code="invalid") from None
        return value

    def bound_data(self, data: Any, initial: Any) -> Any:
        if self.disabled:
            return initial
        if data is None:
            return None
        try:
            return json_loads_strict(data)
        except (JSONInputError, TypeError):
            return forms.fields.InvalidJSONInput(data)


def _clean_key(field: models.Field, value: Any) -> Any:
    """The key as the target field holds it, or raise ValidationError (never ValueError)."""
    if isinstance(field, models.AutoField | models.IntegerField):
        text = str(value).strip()
        if not text.lstrip("-").isdigit() or len(text) > 19 or abs(int(text)) > JSON_MAX_INT:
            raise ValidationError("Not a valid key.", code="invalid_choice")
    return field.to_python(value)


class SafeModelChoiceField(forms.ModelChoiceField):
    """A foreign-key choice that answers a non-integer or enormous key with a form error."""

    def to_python(self, value: Any) -> Any:
        queryset = self.queryset
        if value not in self.empty_values and queryset is not None:
            key = self.to_field_name or queryset.model._meta.pk.name
            try:
                _clean_key(queryset.model._meta.get_field(key), value)
            except ValidationError:
                raise ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice"
                ) from None
        return super().to_python(value)


class SafeAutocompleteSelect(AutocompleteSelect):
    """The autocomplete widget, re-rendering a form with a bad key without a ValueError."""

    def optgroups(
        self, name: str, value: Sequence[str], attr: dict[str, Any] | None = None
    ) -> list[tuple[str | None, list[dict[str, Any]], int | None]]:
        remote = self.field.remote_field
        target = remote.model._meta.get_field(
            getattr(remote, "field_name", None) or remote.model._meta.pk.attname
        )
        kept = []
        for item in value:
            try:
                _clean_key(target, item)
            except ValidationError:
                continue
            kept.append(item)
        return super().optgroups(name, kept, attr)


if TYPE_CHECKING:
    # For mypy an admin mixin is the ModelAdmin it is mixed into; at run time it adds no base.
    _ModelAdminBase = admin.ModelAdmin
else:
    _ModelAdminBase = object


class SafeInputAdminMixin(_ModelAdminBase):
    """Admin form fields that turn hostile input into field errors, for every registered model,
    and a date drill-down (`?start_time__year=9999`) bounded like every other date."""

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        hierarchy = getattr(self, "date_hierarchy", None)
        if hierarchy:
            year = request.GET.get(f"{hierarchy}__year")
            if year is not None and not (
                year.isdigit() and DATE_MIN.year <= int(year) <= DATE_MAX.year
            ):
                # What Django's changelist does with lookups it cannot use: show the error flag.
                return HttpResponseRedirect(f"{request.path}?{ERROR_FLAG}=1")
        return super().changelist_view(request, extra_context)

    def formfield_for_dbfield(
        self, db_field: models.Field, request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        if isinstance(db_field, models.JSONField):
            kwargs.setdefault("form_class", StrictJSONFormField)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        kwargs.setdefault("form_class", SafeModelChoiceField)
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if formfield is not None and type(formfield.widget) is AutocompleteSelect:
            formfield.widget.__class__ = SafeAutocompleteSelect
        return formfield
