"""Page-number and cursor pagination. Named in settings, so it imports no DRF views (see the
package docstring)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import exceptions, pagination
from rest_framework.request import Request

if TYPE_CHECKING:
    # Not at run time: REST_FRAMEWORK loads this module while DRF's views are being imported.
    from rest_framework.views import APIView


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class CursorPagination(pagination.CursorPagination):
    """Cursor pages ordered by the view's ordering, with the id as tie-breaker, so the pages stay
    stable while rows are added. A cursor that does not decode answers 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-id",)

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: APIView | None = None
    ) -> Any:
        self.model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def get_ordering(self, request: Request, queryset: QuerySet, view: APIView) -> tuple[str, ...]:
        ordering = list(super().get_ordering(request, queryset, view))
        if not any(name.lstrip("-") in ("id", "pk") for name in ordering):
            ordering.append("-id" if ordering[0].startswith("-") else "id")
        return tuple(ordering)

    def decode_cursor(self, request: Request) -> Any:
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            field = self.model._meta.get_field(self.ordering[0].lstrip("-"))
            try:
                value = field.to_python(cursor.position)
                if isinstance(value, datetime) and timezone.is_naive(value):
                    raise DjangoValidationError("naive position")
            except (DjangoValidationError, ValueError, TypeError, OverflowError) as error:
                raise exceptions.NotFound(self.invalid_cursor_message) from error
        return cursor
