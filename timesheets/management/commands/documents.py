from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from timesheets.storage import DocumentCopyError, documents_export, documents_import


class Command(BaseCommand):
    help = (
        "Copy the stored documents (timesheet files, exports) to a folder (--export) or back "
        "from one (--import): the documents half of a backup, or a move to another storage."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        direction = parser.add_mutually_exclusive_group(required=True)
        direction.add_argument("--export", metavar="FOLDER", help="Write the documents here.")
        direction.add_argument("--import", metavar="FOLDER", dest="source", help="Read them.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["export"]:
            manifest = documents_export(folder=Path(options["export"]))
            self.stdout.write(f"Exported {len(manifest)} document(s) to {options['export']}.")
            return
        source = Path(options["source"])
        if not source.is_dir():
            raise CommandError(f"{source} is not a folder.")
        try:
            counts = documents_import(folder=source)
        except DocumentCopyError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Imported {counts['stored']} document(s); {counts['unchanged']} already stored."
        )
