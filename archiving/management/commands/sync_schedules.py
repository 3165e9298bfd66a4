from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from archiving.schedules import schedules_sync


class Command(BaseCommand):
    help = "Give every active job configuration exactly one django-q2 schedule; remove orphans."

    def handle(self, *args: Any, **options: Any) -> None:
        result = schedules_sync()
        self.stdout.write(
            f"{result['jobs']} job(s): {result['scheduled']} scheduled, "
            f"{result['removed']} orphan schedule(s) removed."
        )
