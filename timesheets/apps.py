from __future__ import annotations

from django.apps import AppConfig


class TimesheetsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "timesheets"

    def ready(self) -> None:
        from timesheets import checks  # noqa: F401 - registers the system checks
        from timesheets.attention import timesheets_attention_register

        # The action log (auditing, below timesheets) retries uploads and pushes and prices
        # what its items hold back through these, without importing timesheets.
        timesheets_attention_register()
