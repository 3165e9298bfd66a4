from __future__ import annotations

from django.apps import AppConfig


class ArchivingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "archiving"

    def ready(self) -> None:
        from archiving.resolutions import archive_resolutions_register

        # The action log (auditing, below archiving) offers these without importing archiving.
        archive_resolutions_register()
