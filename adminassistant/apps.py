from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class AdminAssistantAdminConfig(AdminConfig):
    """The Django admin, with the site that audits every change."""

    default_site = "adminassistant.admin.AdminAssistantSite"
