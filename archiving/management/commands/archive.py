from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.commands import microsoft_failures
from archiving.phrases import DatePhraseError
from archiving.run import ArchiveResult, ArchiveRunError, archive_run
from archiving.services import ConfigurationNotFound, archive_configuration_find, archive_dates
from auditing.models import AuditLog


class Command(BaseCommand):
    help = (
        "Archive a configuration's appointments for some days: into the database and the "
        "archive calendar. CONFIG is the configuration's id or name."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("config", help="Archive configuration id or name.")
        parser.add_argument(
            "--date",
            default="yesterday",
            help="Which days: today, yesterday, 'last 7 days', 'last week', 'last month', "
            "'this week', 'this month', 2025-06-01, '1 June 2025', '2025-06-01 to 2025-06-07'. "
            "Days are counted in the configuration's time zone. Default: yesterday.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Read Outlook and report what would change, writing nothing.",
        )

    def handle(self, *args: Any, config: str, date: str, dry_run: bool, **options: Any) -> None:
        try:
            configuration = archive_configuration_find(reference=config)
            dates = archive_dates(configuration=configuration, phrase=date)
        except (ConfigurationNotFound, DatePhraseError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Archiving “{configuration}” for {configuration.user.email}: {dates} "
            f"({configuration.timezone}){' — dry run' if dry_run else ''}"
        )
        try:
            with microsoft_failures():
                result = archive_run(
                    configuration=configuration,
                    dates=dates,
                    dry_run=dry_run,
                    progress=self._progress if sys.stdout.isatty() else None,
                )
        except ArchiveRunError as error:
            raise CommandError(str(error)) from error
        if sys.stdout.isatty():
            self.stdout.write("")
        self._summary(result)
        if result.status == AuditLog.Status.FAILURE:
            raise CommandError("The archive run failed.")
        if result.errors:
            raise CommandError(f"The archive run finished with {len(result.errors)} error(s).")

    def _progress(self, done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        self.stdout.write(
            f"\rCopying [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", ending=""
        )
        self.stdout.flush()

    def _summary(self, result: ArchiveResult) -> None:
        counts = result.counts.as_dict()
        labels = {
            "fetched": "Events read from Outlook",
            "cancelled": "Cancelled (skipped)",
            "modifications": "Meeting modifications applied",
            "created": "Appointments new in the database",
            "updated": "Appointments updated",
            "unchanged": "Appointments unchanged",
            "copied": "Copied to the archive calendar",
            "copies_updated": "Archive copies updated",
            "copies_unchanged": "Archive copies already up to date",
            "not_copied": "Not copied (free, lost an overlap, conflict)",
            "conflicts": "Overlap conflicts for you to decide",
            "source_deleted": "Gone from the source since archived (still billed)",
            "moved": "Moved out of the window (followed)",
            "locked": "Changed in Outlook but billed (kept as billed)",
            "errors": "Errors",
        }
        width = max(len(label) for label in labels.values())
        for key, label in labels.items():
            self.stdout.write(f"  {label:<{width}}  {counts[key]:>6}")
        for error in result.errors[:20]:
            self.stderr.write(f"  error: {error}")
        self.stdout.write(
            f"Status: {result.status}  (audit log correlation id {result.correlation_id})"
        )
