from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from auditing.context import (
    RequestContext,
    current_request,
    new_correlation_id,
    valid_correlation_id,
)
from foundations.client_ip import request_client_ip

HEADER = "X-Request-ID"


class CorrelationIdMiddleware:
    """Gives each request a correlation id: a valid incoming X-Request-ID, or a new one.

    The id is on `request.correlation_id`, in every audit row the request writes, and in the
    response's X-Request-ID header.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        correlation_id = valid_correlation_id(request.headers.get(HEADER)) or new_correlation_id()
        # A request takes extra attributes at run time; the stubs list only Django's own.
        request.correlation_id = correlation_id  # type: ignore[attr-defined]
        token = current_request.set(
            RequestContext(
                correlation_id=correlation_id,
                ip_address=request_client_ip(request),
                user_agent=(request.headers.get("User-Agent") or "")[:512] or None,
            )
        )
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        response[HEADER] = correlation_id
        return response
