"""The one audit service: every state-changing operation records an AuditLog row through it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AnonymousUser
from django.core.serializers.json import DjangoJSONEncoder

from auditing.context import current_parent, current_request, new_correlation_id
from auditing.models import ActionLog, ActionLogQuerySet, ActionLogState, AuditLog
from auditing.resolutions import dismissal_notify

if TYPE_CHECKING:
    # AUTH_USER_MODEL as django-stubs resolves it: auditing sits below accounts.
    from django.contrib.auth.models import _User as User

MASK = "********"
SENSITIVE_KEY_PARTS = (
    "token",
    "secret",
    "password",
    "passwd",
    "authorization",
    "cookie",
    "api_key",
    "apikey",
    "credential",
    "code_verifier",
    "private_key",
    "encryption_key",
)
MAX_STRING = 4000


def sanitize(value: Any) -> Any:
    """A JSON-safe copy with sensitive keys masked and very long strings cut."""
    return _mask(json.loads(json.dumps(value, cls=DjangoJSONEncoder, default=str)))


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: MASK if _is_sensitive(key) and item not in (None, "") else _mask(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_mask(item) for item in value]
    if isinstance(value, str) and len(value) > MAX_STRING:
        return value[:MAX_STRING] + "…"
    return value


def _is_sensitive(key: object) -> bool:
    lowered = str(key).lower()
    return any(part in lowered for part in SENSITIVE_KEY_PARTS)


@dataclass
class AuditRecorder:
    """What the code inside `audit_operation` may add to its row before it is closed."""

    status: AuditLog.Status = AuditLog.Status.SUCCESS
    message: str | None = None
    resource_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    response_data: Any = None
    entry: AuditLog | None = None


def _user_or_none(user: User | AnonymousUser | None) -> User | None:
    # Nobody signed in (a refused sign-in) and an unsaved user are recorded as no user.
    if user is None or isinstance(user, AnonymousUser) or user.pk is None:
        return None
    return user


@contextmanager
def audit_operation(
    *,
    action_type: AuditLog.ActionType,
    operation: str,
    user: User | AnonymousUser | None = None,
    resource_type: str | None = None,
    resource_id: int | str | None = None,
    request_data: Mapping[str, Any] | None = None,
    message: str | None = None,
    correlation_id: str | None = None,
) -> Iterator[AuditRecorder]:
    """Record one operation: a row written when it starts, closed with its outcome.

    Nested operations become children of the innermost open one. An exception marks the row
    `failure` with the error as message and is re-raised. Long runs should not wrap this in a
    transaction: the row shares the fate of the caller's transaction on `default`.
    """
    context = current_request.get()
    parent = current_parent.get()
    if correlation_id is None and parent is not None:
        correlation_id = parent[1]
    correlation_id = (
        correlation_id or (context.correlation_id if context else None) or new_correlation_id()
    )
    recorder = AuditRecorder(message=message, resource_id=_str_or_none(resource_id))
    entry = AuditLog(
        user=_user_or_none(user),
        action_type=action_type,
        operation=operation,
        resource_type=resource_type,
        resource_id=recorder.resource_id,
        status=AuditLog.Status.RUNNING,
        message=message,
        request_data=sanitize(request_data) if request_data is not None else None,
        correlation_id=correlation_id,
        parent_audit_id=parent[0] if parent else None,
        ip_address=context.ip_address if context else None,
        user_agent=context.user_agent if context else None,
    )
    entry.save(using="default")
    recorder.entry = entry
    token = current_parent.set((entry.pk, correlation_id))
    started = time.perf_counter()
    try:
        yield recorder
    except BaseException as error:
        recorder.status = AuditLog.Status.FAILURE
        recorder.message = recorder.message or f"{type(error).__name__}: {error}"
        raise
    finally:
        current_parent.reset(token)
        _close(entry, recorder, started)


def _close(entry: AuditLog, recorder: AuditRecorder, started: float) -> None:
    """Write the operation's outcome into its row."""
    entry.status = recorder.status
    entry.message = recorder.message
    entry.resource_id = recorder.resource_id
    entry.details = sanitize(recorder.details) if recorder.details else None
    entry.response_data = (
        sanitize(recorder.response_data) if recorder.response_data is not None else None
    )
    entry.duration_ms = round((time.perf_counter() - started) * 1000, 3)
    entry.save(
        using="default",
        update_fields=[
            "status",
            "message",
            "resource_id",
            "details",
            "response_data",
            "duration_ms",
        ],
    )


def audit_record(
    *,
    action_type: AuditLog.ActionType,
    operation: str,
    user: User | AnonymousUser | None = None,
    status: AuditLog.Status = AuditLog.Status.SUCCESS,
    resource_type: str | None = None,
    resource_id: int | str | None = None,
    message: str | None = None,
    details: Mapping[str, Any] | None = None,
    request_data: Mapping[str, Any] | None = None,
    response_data: Any = None,
) -> AuditLog:
    """Record an operation that has already happened, as one finished row."""
    context = current_request.get()
    parent = current_parent.get()
    return AuditLog.objects.using("default").create(
        user=_user_or_none(user),
        action_type=action_type,
        operation=operation,
        resource_type=resource_type,
        resource_id=_str_or_none(resource_id),
        status=status,
        message=message,
        details=sanitize(details) if details else None,
        request_data=sanitize(request_data) if request_data is not None else None,
        response_data=sanitize(response_data) if response_data is not None else None,
        correlation_id=(parent[1] if parent else None)
        or (context.correlation_id if context else None)
        or new_correlation_id(),
        parent_audit_id=parent[0] if parent else None,
        ip_address=context.ip_address if context else None,
        user_agent=context.user_agent if context else None,
    )


def audit_change_record(
    *,
    action_type: str,
    operation: str,
    user: User | AnonymousUser | None = None,
    resource_type: str | None = None,
    resource_id: int | str | None = None,
    message: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    """The recorder the admin and API plumbing write through (`AuditingConfig.ready` registers
    it). They sit below this app and name their action type as a string; a string that is not
    an `AuditLog.ActionType` raises ValueError here rather than slip into the log."""
    return audit_record(
        action_type=AuditLog.ActionType(action_type),
        operation=operation,
        user=user,
        resource_type=resource_type,
        resource_id=resource_id,
        message=message,
        details=details,
    )


def _str_or_none(value: int | str | None) -> str | None:
    return None if value is None else str(value)[:128]


def action_log_close(*, items: ActionLogQuerySet, state: ActionLogState, user: User) -> int:
    """Resolve or dismiss open action items; each change is audited. Returns how many changed."""
    if state not in (ActionLog.State.RESOLVED, ActionLog.State.DISMISSED):
        raise ValueError(f"An action item can be resolved or dismissed, not set to {state!r}.")
    changed = 0
    for item in items.open():
        if item.close(by=user, resolution=state):
            changed += 1
            if state == ActionLog.State.DISMISSED:
                # The app that offered the item's suggestions learns they were turned down.
                dismissal_notify(item=item, by=user, recommendation=None)
    return changed
