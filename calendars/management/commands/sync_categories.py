from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.commands import microsoft_failures, user_by_email
from calendars.services import categories_sync


class Command(BaseCommand):
    help = "Copy a user's Outlook master categories into the categories table."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="The user's email address.")

    def handle(self, *args: Any, email: str, **options: Any) -> None:
        user = user_by_email(email)
        with microsoft_failures():
            result = categories_sync(user=user)
        self.stdout.write(f"Outlook categories synced for {user.email}: {result}.")
