from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from accounts.commands import microsoft_failures, user_by_email
from accounts.microsoft import graph_client


class Command(BaseCommand):
    help = "Show who a user is connected to Microsoft 365 as, the token's expiry and calendars."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="The user's email address.")

    def handle(self, *args: Any, email: str, **options: Any) -> None:
        user = user_by_email(email)
        with microsoft_failures():
            client = graph_client(user=user)
            me = client.me()
            calendars = client.list_calendars()
        user.refresh_from_db(fields=["ms_token_expires_at"])
        expires = user.ms_token_expires_at
        self.stdout.write(
            f"{user.email} is connected to Microsoft 365 as {me.get('displayName')} "
            f"<{me.get('mail') or me.get('userPrincipalName')}>"
        )
        if expires:
            local = timezone.localtime(expires)
            self.stdout.write(f"Access token expires {local:%Y-%m-%d %H:%M %Z}")
        self.stdout.write(f"Calendars ({len(calendars)}):")
        for calendar in calendars:
            default = " (default)" if calendar.get("isDefaultCalendar") else ""
            self.stdout.write(f"  {calendar.get('name')}{default}  id={calendar['id']}")
