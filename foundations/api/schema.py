"""The OpenAPI description: the error bodies and the responses every endpoint can give."""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny


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

    def _get_response_bodies(
        self, direction: Literal["request", "response"] = "response"
    ) -> dict[str, Any]:
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
