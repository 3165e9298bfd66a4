from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Users"

    def ready(self) -> None:
        from accounts import checks  # noqa: F401 - registers the system checks
