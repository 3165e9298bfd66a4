"""How the foundations record an audited change without importing the auditing app.

The admin and API plumbing write an audit row for every add, change and delete, but they sit
below every app. The auditing app registers its recorder here when it is ready
(`AuditingConfig.ready`); a write with no recorder registered raises, so an unaudited change can
never pass silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Model

if TYPE_CHECKING:
    # AUTH_USER_MODEL as django-stubs resolves it: the foundations import no app.
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.auth.models import _User as User


class AuditRecorder(Protocol):
    """Writes one finished audit row. `action_type` must be an `AuditLog.ActionType` value: the
    foundations cannot import the auditing app, so they pass the value ("admin", "api") and the
    registered recorder refuses any other."""

    def __call__(
        self,
        *,
        action_type: str,
        operation: str,
        user: User | AnonymousUser | None = None,
        resource_type: str | None = None,
        resource_id: int | str | None = None,
        message: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> object: ...


_recorder: list[AuditRecorder] = []


def audit_recorder_register(recorder: AuditRecorder) -> None:
    """Make `recorder` the one that writes the foundations' audit rows (registering twice, as
    Django's autoreloader may, replaces the first)."""
    _recorder[:] = [recorder]


def audit_change(
    *,
    action_type: str,
    operation: str,
    user: User | AnonymousUser | None,
    resource_type: str | None,
    resource_id: int | str | None,
    message: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Record a finished change (an admin or API write) through the registered recorder."""
    if not _recorder:
        raise ImproperlyConfigured(
            "No audit recorder is registered: add the auditing app to INSTALLED_APPS."
        )
    _recorder[0](
        action_type=action_type,
        operation=operation,
        user=user,
        resource_type=resource_type,
        resource_id=resource_id,
        message=message,
        details=details,
    )


class ValidatedWrite(Protocol):
    """What `audited_update` needs of a write: a DRF serializer, validated."""

    instance: Any

    @property
    def validated_data(self) -> Mapping[str, Any]: ...

    def save(self, **kwargs: Any) -> Any: ...


def api_write_audit(*, user: User, instance: Model, operation: str, fields: list[str]) -> None:
    """The audit row of a create, update or delete made through the API."""
    audit_change(
        action_type="api",
        operation=operation,
        user=user,
        resource_type=instance._meta.object_name,
        resource_id=instance.pk,
        message=f"{operation.capitalize()} {instance._meta.verbose_name} “{instance}” "
        "through the API",
        details={"fields": fields} if fields else None,
    )


def audited_update(*, write: ValidatedWrite, user: User, **values: Any) -> Any:
    """Save an API update and audit the fields whose value it changes, both or neither: the one
    definition the viewsets and `me` share.

    `values` are set on the instance besides the validated data (what the server decides).
    """
    before = write.instance
    changed = sorted(
        name for name, value in write.validated_data.items() if getattr(before, name, None) != value
    )
    with transaction.atomic(using="default"):
        instance = write.save(**values)
        api_write_audit(user=user, instance=instance, operation="update", fields=changed)
    return instance
