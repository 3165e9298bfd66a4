"""The classes REST_FRAMEWORK names in settings: token authentication, the JSON parser, the
browsable API renderer, pagination, throttling and the search filter.

DRF imports these while it defines its own views, so this module imports no DRF views,
viewsets or generics (that would be a circular import); the rest is in `api_base.py`.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import exceptions, filters, pagination, parsers, renderers, throttling
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request
from rest_framework.settings import api_settings

from accounts.models import ApiToken, User
from adminassistant.inputs import JSONInputError, json_loads_strict

# -- authentication ------------------------------------------------------------------------


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <key>` (or `Token <key>`) with a personal API token.

    Requests without such a header are left to the next authentication class (the session).
    An unknown, revoked or expired key is refused with 401 and a message saying which.
    """

    keywords = (b"bearer", b"token")

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the API token as “Authorization: Bearer <key>”, with no spaces in the key."
            )
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed("Unknown API token.") from error
        token = (
            ApiToken.objects.select_related("user").filter(key_hash=ApiToken.hash_key(key)).first()
        )
        now = timezone.now()
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown API token.")
        if token.is_revoked:
            raise exceptions.AuthenticationFailed(
                f"This API token ({token.key_prefix}…) was revoked."
            )
        if token.is_expired(now=now):
            raise exceptions.AuthenticationFailed(
                f"This API token ({token.key_prefix}…) expired at "
                f"{token.expires_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC."
            )
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("This API token's user is inactive.")
        token.touch(now=now)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


# -- input ---------------------------------------------------------------------------------


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class LimitedJSONParser(parsers.JSONParser):
    """JSON bodies up to DATA_UPLOAD_MAX_MEMORY_SIZE bytes (Django checks form bodies only)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None:
            request = (parser_context or {}).get("request")
            declared = request.META.get("CONTENT_LENGTH") if request is not None else None
            if declared and str(declared).isdigit() and int(declared) > limit:
                raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
            stream = io.BytesIO(body)
        else:
            body = stream.read()
        try:
            return json_loads_strict(body.decode(settings.DEFAULT_CHARSET), check_values=False)
        except UnicodeDecodeError:
            raise exceptions.ParseError("The request body is not valid UTF-8.") from None
        except JSONInputError as error:
            raise exceptions.ParseError(f"JSON parse error - {error}") from None


# -- output --------------------------------------------------------------------------------


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """The browsable API with its raw JSON form only: the API parses JSON bodies, not forms."""

    def get_rendered_html_form(self, data: Any, view: Any, method: str, request: Request) -> Any:
        return None

    def get_context(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(*args, **kwargs)
        # Pygments' colours come as an inline <style>, which the Content-Security-Policy refuses.
        context["code_style"] = None
        return context


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

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: Any = None) -> Any:
        self.model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> tuple[str, ...]:
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


class ScopedThrottle(throttling.ScopedRateThrottle):
    """ScopedRateThrottle that reads the rates from settings when asked (not at import), so a
    change of REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] applies at once; no rate = no limit."""

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class SearchFilter(filters.SearchFilter):
    """DRF's search, with a bad term (a null character) reported under `search`."""

    def get_search_terms(self, request: Request) -> list[str]:
        try:
            return super().get_search_terms(request)
        except exceptions.ValidationError as error:
            raise exceptions.ValidationError({self.search_param: error.detail}) from error
