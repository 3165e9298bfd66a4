from __future__ import annotations

from django.apps import AppConfig


class ArchivingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "archiving"

    def ready(self) -> None:
        from archiving import scheduler_guard
        from archiving.attention import item_evidence
        from archiving.resolutions import archive_resolutions_register
        from auditing.attention import evidence_provider_register

        # The cluster's scheduler pass skips a bad schedule instead of stalling on it.
        scheduler_guard.install()

        # The action log (auditing, below archiving) offers these without importing archiving.
        archive_resolutions_register()
        evidence_provider_register(item_evidence)
