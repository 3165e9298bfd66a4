from __future__ import annotations

from django.apps import AppConfig


class AuditingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "auditing"

    def ready(self) -> None:
        from auditing.services import audit_change_record
        from foundations.audit import audit_recorder_register

        # The admin and API plumbing sit below every app; they write their audit rows
        # through this recorder.
        audit_recorder_register(audit_change_record)
