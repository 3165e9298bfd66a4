"""Account workflows that are not tied to one request."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts.fields import EncryptedTextField
from accounts.models import ApiToken, User
from auditing.models import AuditLog
from auditing.services import audit_record


def encryption_keys_rotate(*, batch_size: int = 500) -> int:
    """Re-encrypt every encrypted value under the first key of FIELD_ENCRYPTION_KEYS.

    Values are read with all the keys and written back with the first, so after this the older
    keys can be removed. Returns how many values were re-encrypted.
    """
    rotated = 0
    for model in apps.get_models():
        fields = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if not fields:
            continue
        manager = model._base_manager
        with transaction.atomic(using=manager.db):
            ids = list(manager.order_by("pk").values_list("pk", flat=True))
            for start in range(0, len(ids), batch_size):
                rows = list(
                    manager.select_for_update()
                    .filter(pk__in=ids[start : start + batch_size])
                    .only("pk", *fields)
                )
                rotated += sum(1 for row in rows for name in fields if getattr(row, name))
                manager.bulk_update(rows, fields)
    return rotated


def api_tokens_revoke(*, tokens: QuerySet[ApiToken], by: User) -> int:
    """Revoke the tokens that still work; each revocation is audited. Returns how many."""
    revoked = 0
    with transaction.atomic(using="default"):
        for token in tokens.select_for_update().filter(revoked_at__isnull=True):
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(
                action_type=AuditLog.ActionType.API_TOKEN,
                operation="revoke",
                user=by,
                resource_type="ApiToken",
                resource_id=token.pk,
                message=f"Revoked API token “{token}”",
            )
            revoked += 1
    return revoked


def login_attempt_username(
    request: HttpRequest | None, credentials: dict[str, Any] | None = None
) -> str:
    """The account a password login is for, the same for the admin (`username`) and allauth
    (`email`, or the form's `login`), so django-axes counts both doors together."""
    credentials = credentials or {}
    post = getattr(request, "POST", {}) or {}
    name = (
        credentials.get("username")
        or credentials.get("email")
        or post.get("login")
        or post.get("username")
        or ""
    )
    return str(name).strip().lower()[:255]


def login_lockout_audit(*, username: str, ip_address: str | None) -> None:
    """Record that django-axes locked a (user, IP) pair out of password logins."""
    audit_record(
        action_type=AuditLog.ActionType.SECURITY,
        operation="login_lockout",
        status=AuditLog.Status.FAILURE,
        resource_type="User",
        resource_id=username,
        message=f"Password logins for {username} from {ip_address} are locked out "
        "after repeated failures.",
        details={"username": username, "ip_address": ip_address},
    )
