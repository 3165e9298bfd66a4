from __future__ import annotations

from django.apps import AppConfig


class ArchivingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "archiving"
