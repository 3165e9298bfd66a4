from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.commands import microsoft_failures, user_by_email
from archiving.phrases import DatePhraseError, parse_date_phrase
from foundations.days import today_in
from timesheets.billing import format_hours
from timesheets.services import (
    FORMATS,
    TimesheetError,
    timesheet_file,
    timesheet_generate,
    timesheet_upload_onedrive,
)
from timesheets.xero_client import XeroError
from timesheets.xero_push import timesheet_xero_push


class Command(BaseCommand):
    help = (
        "Issue a customer's timesheet for a period: bills and locks the appointments, stores "
        "the files, optionally writes them to a folder and uploads them to OneDrive."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="The consultant's email address.")
        parser.add_argument("--customer", required=True, help="The billing customer, e.g. Acme.")
        parser.add_argument("--start", required=True, help="First day, e.g. 2025-05-01.")
        parser.add_argument("--end", required=True, help="Last day, e.g. 2025-05-31.")
        parser.add_argument(
            "--format", default="pdf,csv,xlsx", help="Comma-separated: pdf, csv, xlsx."
        )
        parser.add_argument("--output", help="Also write the files to this folder.")
        parser.add_argument(
            "--upload",
            choices=["onedrive", "xero"],
            action="append",
            help="Upload the files to the user's OneDrive, or send a draft invoice with the PDF "
            "to Xero; repeat for both.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = user_by_email(options["email"])
        # "yesterday" and "today" are the consultant's days, not the server's.
        start = _day(options["start"], "--start", zone=user.timezone)
        end = _day(options["end"], "--end", zone=user.timezone)
        formats = [f.strip().lower() for f in options["format"].split(",") if f.strip()]
        unknown = sorted(set(formats) - set(FORMATS))
        if unknown:
            raise CommandError(f"Unknown format(s) {', '.join(unknown)}: use pdf, csv, xlsx.")
        output = Path(options["output"]) if options["output"] else None
        if output and not output.is_dir():
            raise CommandError(f"The output folder {output} does not exist.")
        try:
            generation = timesheet_generate(
                user=user, customer=options["customer"], start=start, end=end, formats=formats
            )
        except TimesheetError as error:
            raise CommandError(str(error)) from error
        timesheet, data = generation.timesheet, generation.data
        self.stdout.write(
            f"Timesheet {timesheet.pk} for {data.customer_display_name}, {data.period}: "
            f"{len(data.effort_rows)} effort and {len(data.travel_rows)} travel row(s), "
            f"{format_hours(data.billable_total)} billable."
        )
        for note in generation.messages:
            self.stdout.write(self.style.WARNING(note))
        if output:
            for fmt in formats:
                name, content = timesheet_file(timesheet=timesheet, fmt=fmt)
                (output / name).write_bytes(content)
                self.stdout.write(f"Wrote {output / name}")
        uploads = options["upload"] or []
        if "onedrive" in uploads:
            with microsoft_failures("The timesheet was issued but the OneDrive upload failed: "):
                uploaded = timesheet_upload_onedrive(timesheet=timesheet, user=user)
            for path in uploaded:
                self.stdout.write(f"Uploaded to OneDrive: {path}")
        if "xero" in uploads:
            try:
                push = timesheet_xero_push(timesheet=timesheet, user=user)
            except (TimesheetError, XeroError) as error:
                raise CommandError(
                    f"The timesheet was issued but sending it to Xero failed: {error}"
                ) from error
            self.stdout.write(
                f"Draft invoice {push.invoice_number} in Xero (contact {push.contact}): "
                f"{push.invoice_url}"
            )


def _day(text: str, option: str, *, zone: str) -> date:
    try:
        dates = parse_date_phrase(text, today=today_in(zone))
    except DatePhraseError as error:
        raise CommandError(f"{option}: {error.reason}") from error
    if dates.start != dates.end:
        raise CommandError(f"{option} takes one day, not {dates}.")
    return dates.start
