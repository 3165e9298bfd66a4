from __future__ import annotations

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.db.models.signals import post_migrate


class AdminAssistantAdminConfig(AdminConfig):
    """The Django admin, with the site that audits every change."""

    default_site = "adminassistant.sites.AdminAssistantSite"

    def ready(self) -> None:
        super().ready()
        from foundations import checks

        # `migrate --database web` is enough for a working app: it also makes the cache table.
        post_migrate.connect(checks.create_cache_tables, sender=self, dispatch_uid="cache-tables")


class AdminAssistantConfig(AppConfig):
    """The project package as an app of its own: its management commands (`demo`) and static
    files. It has no models of its own (models.py holds abstract bases only)."""

    name = "adminassistant"
    verbose_name = "Admin Assistant"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from foundations.postgres import use_c_loaders

        # PostgreSQL's timestamps parsed in C, as Django's loader would leave them.
        connection_created.connect(use_c_loaders, dispatch_uid="postgres-c-loaders")
