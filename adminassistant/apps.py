from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class AdminAssistantAdminConfig(AdminConfig):
    """The Django admin, with the site that audits every change."""

    default_site = "adminassistant.admin.AdminAssistantSite"

    def ready(self) -> None:
        super().ready()
        # The project's own system checks register themselves on import.
        from adminassistant import checks  # noqa: F401
