from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from timesheets.tasks import xero_upkeep_task
from timesheets.xero import xero_upkeep_schedule_ensure


class Command(BaseCommand):
    help = (
        "Refresh Xero refresh tokens older than 30 days and queue again the pushes that failed "
        "on something transient; --schedule makes the django-q2 schedule that does it every "
        "15 minutes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--schedule", action="store_true", help="Only ensure the schedule.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["schedule"]:
            xero_upkeep_schedule_ensure()
            self.stdout.write("The Xero upkeep runs every 15 minutes (schedule xero-upkeep).")
            return
        result = xero_upkeep_task()
        tokens = result["tokens"]
        self.stdout.write(
            f"Xero tokens: {tokens['refreshed']} refreshed, {tokens['failed']} to retry, "
            f"{tokens['reconnect']} to reconnect; {result['retried']} push(es) queued again."
        )
