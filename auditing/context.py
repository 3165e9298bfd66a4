"""What the audit service knows about the current request or run, carried in context variables."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

_CORRELATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


@dataclass(frozen=True)
class RequestContext:
    correlation_id: str
    ip_address: str | None = None
    user_agent: str | None = None


current_request: ContextVar[RequestContext | None] = ContextVar("current_request", default=None)
# The innermost open audit row (id, correlation id), so nested operations become its children.
current_parent: ContextVar[tuple[int, str] | None] = ContextVar("current_parent", default=None)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def valid_correlation_id(value: str | None) -> str | None:
    """The incoming id if it is safe to log and echo (1-128 of [A-Za-z0-9._:-]), else None."""
    if value and _CORRELATION_ID.match(value):
        return value
    return None


def current_correlation_id() -> str | None:
    context = current_request.get()
    return context.correlation_id if context else None
