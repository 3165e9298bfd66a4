"""Filters: the search backend REST_FRAMEWORK names, and the filter sets' shared filters (ids,
owner, instants). The search backend is named in settings, so this module imports no DRF views
(see the package docstring)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, filters
from rest_framework.request import Request

from foundations.days import day_start_utc
from foundations.inputs import DATE_MAX, DATE_MIN, DATE_RANGE_MESSAGE


class SearchFilter(filters.SearchFilter):
    """DRF's search, with a bad term (a null character) reported under `search`."""

    def get_search_terms(self, request: Request) -> list[str]:
        try:
            return super().get_search_terms(request)
        except exceptions.ValidationError as error:
            raise exceptions.ValidationError({self.search_param: error.detail}) from error


class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


# Each filter set class's form class, built once per process (OwnedFilterSet.get_form_class).
_FORM_CLASSES: dict[type, type[forms.Form]] = {}


class OwnedFilterSet(django_filters.FilterSet):
    """The API's filter sets. django-filter deep-copies every filter and builds a new form class
    on every request, which cost more than filtering a page; these filters hold no state of the
    request but `parent` and `model` (none reads a queryset of the request's user to build its
    form field), so each request takes shallow copies and one form class per filter set class.
    A filter set whose filters do depend on the request must not use this base."""

    user = IdFilter(
        field_name="user", help_text="Only this user's rows (useful to superusers, who see all)."
    )

    def __init__(
        self,
        data: Any = None,
        queryset: QuerySet | None = None,
        *,
        request: Any = None,
        prefix: str | None = None,
    ) -> None:
        # django_filters.filterset.BaseFilterSet.__init__ (django-filter 26), with shallow
        # copies of the filters instead of a deep copy (tests/test_api_filter_sets.py compares).
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {}
        for name, base in self.base_filters.items():
            # A shallow copy without copy.copy's pickling protocol (a filter has no __copy__).
            filter_ = self.filters[name] = object.__new__(type(base))
            filter_.__dict__.update(base.__dict__)
            filter_.model = queryset.model
            filter_.parent = self

    def _asked(self) -> bool:
        """Whether the request names any of this set's filters: with none, there is nothing to
        validate or filter, and no form is built."""
        return any(name in self.data for name in self.filters)

    def is_valid(self) -> bool:
        if self.is_bound and not self._asked():
            return True
        return super().is_valid()

    @property
    def qs(self) -> QuerySet:
        if not hasattr(self, "_qs") and self.is_bound and not self._asked():
            self._qs = self.queryset.all()
        return super().qs

    def get_form_class(self) -> type[forms.Form]:
        cls = type(self)
        form_class = _FORM_CLASSES.get(cls)
        if form_class is None:
            form_class = _FORM_CLASSES[cls] = super().get_form_class()
        return form_class


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
