"""The API's errors: 409 and 502 answers, Microsoft failures as one of them, and the exception
handler REST_FRAMEWORK names (model validation errors as 400, lost unique races as 409)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from foundations.api.parsers import RequestTooLarge
from foundations.graph import MicrosoftSetupMissing, microsoft_problem


def django_errors(error: DjangoValidationError) -> Any:
    """A model ValidationError as DRF's {field: [messages]} with the non-field key renamed."""
    if hasattr(error, "error_dict"):
        return {
            (api_settings.NON_FIELD_ERRORS_KEY if field == "__all__" else field): messages
            for field, messages in error.message_dict.items()
        }
    return {api_settings.NON_FIELD_ERRORS_KEY: error.messages}


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "The object's state does not allow this."
    default_code = "conflict"


class Gone(exceptions.APIException):
    status_code = 410
    default_detail = "This is no longer available."
    default_code = "gone"


class ServiceUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = "A service this needs is unavailable; try again shortly."
    default_code = "service_unavailable"


class BadGateway(exceptions.APIException):
    status_code = 502
    default_detail = "Microsoft 365 did not answer as expected."
    default_code = "bad_gateway"


def microsoft_api_error(error: Exception) -> exceptions.APIException:
    """A Microsoft 365 failure as an API error: 409 when the account's set-up is what is
    missing (not configured, not connected, reconnect needed), 502 when Microsoft failed.
    Anything else is a programming error and is raised as it is."""
    problem = microsoft_problem(error)
    if problem is None:
        raise error
    if isinstance(error, MicrosoftSetupMissing):
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
