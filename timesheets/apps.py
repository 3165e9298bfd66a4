from __future__ import annotations

from django.apps import AppConfig


class TimesheetsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "timesheets"

    def ready(self) -> None:
        from accounts.connections import connection_provider_register
        from calendars.models import appointment_save_check_register
        from timesheets import checks  # noqa: F401 - registers the system checks
        from timesheets.attention import timesheets_attention_register
        from timesheets.connections import xero_connections
        from timesheets.locks import billed_changes_refuse

        # A billed appointment is read-only: timesheets' rule, met by every save.
        appointment_save_check_register(billed_changes_refuse)

        # The action log (auditing, below timesheets) retries uploads and pushes and prices
        # what its items hold back through these, without importing timesheets.
        timesheets_attention_register()
        connection_provider_register(xero_connections)
