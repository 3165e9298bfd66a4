from __future__ import annotations

from django.apps import AppConfig


class TimesheetsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "timesheets"

    def ready(self) -> None:
        from accounts.connections import connection_provider_register
        from timesheets import checks  # noqa: F401 - registers the system checks
        from timesheets.connections import xero_connections

        connection_provider_register(xero_connections)
