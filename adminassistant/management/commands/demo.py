"""`manage.py demo`: a demo admin, a second member and two months of sample calendar data.

Every run is idempotent; the seeding is in `adminassistant/demo.py`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from adminassistant.demo import (
    ADMIN_EMAIL,
    DEFAULT_DAYS,
    DEMO_TIMEZONE,
    MEMBER_EMAIL,
    admin_url,
    demo_seed,
)
from foundations.days import today_in


class Command(BaseCommand):
    help = (
        "Create a demo superuser (admin@example.com), a second staff member and two months of "
        "sample appointments, configurations and log items. Safe to run repeatedly."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=DEFAULT_DAYS,
            help=f"How many days of appointments, ending yesterday (default {DEFAULT_DAYS}).",
        )
        parser.add_argument(
            "--password", help="Password for both demo users (default: settings.DEMO_PASSWORD)."
        )

    def handle(self, *args: Any, days: int, password: str | None, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "demo creates a superuser with a known password; it does not run with "
                "DJANGO_ENV=production."
            )
        if days < 1:
            raise CommandError("--days must be at least 1.")
        password = password or settings.DEMO_PASSWORD
        if not password:
            raise CommandError("Set DEMO_PASSWORD or pass --password.")
        # "Yesterday" is the demo user's, not the server's: they differ around midnight UTC.
        today = today_in(DEMO_TIMEZONE)
        summary = demo_seed(days=days, password=password, today=today)

        plan = summary.admin_plan
        if plan:
            self.stdout.write(
                f"{ADMIN_EMAIL}: {len(plan)} appointments from {plan[0].start:%d %b %Y} to "
                f"{plan[-1].start:%d %b %Y} ({sum(item.is_private for item in plan)} private, "
                f"{sum(item.is_out_of_office for item in plan)} out of office, "
                f"{len(summary.clashes)} overlapping pairs), archived by the real archive "
                "run from a fake Microsoft 365."
            )
        self.stdout.write(
            f"{MEMBER_EMAIL}: {len(summary.member_plan)} appointments of his own, "
            "to show that staff see only their own data."
        )
        self.stdout.write(
            self.style.SUCCESS(f"Log in at {admin_url()} as {ADMIN_EMAIL} / {password}")
        )
        self.stdout.write(f"or as the staff member {MEMBER_EMAIL} / {password}")
