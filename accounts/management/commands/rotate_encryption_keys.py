from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.fields import DecryptionError
from accounts.services import encryption_keys_rotate
from auditing.models import AuditLog
from auditing.services import audit_operation


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted column under the first key of FIELD_ENCRYPTION_KEYS. "
        "Put the new key first, keep the old ones after it, run this, then drop the old ones."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with audit_operation(
                action_type=AuditLog.ActionType.SECURITY, operation="rotate_encryption_keys"
            ) as rec:
                count = encryption_keys_rotate()
                rec.message = f"Re-encrypted {count} values under the first key."
        except DecryptionError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Re-encrypted {count} values under the first key.")
