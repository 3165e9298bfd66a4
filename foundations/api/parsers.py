"""The JSON parser REST_FRAMEWORK names: bodies up to DATA_UPLOAD_MAX_MEMORY_SIZE, strict JSON.

Named in settings, so it imports no DRF views (see the package docstring)."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from rest_framework import exceptions, parsers

from foundations.inputs import JSONInputError, json_loads_strict


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
