from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.microsoft import microsoft_problem
from accounts.models import User
from calendars.services import categories_sync


class Command(BaseCommand):
    help = "Copy a user's Outlook master categories into the categories table."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="The user's email address.")

    def handle(self, *args: Any, email: str, **options: Any) -> None:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No user has the email address {email}.")
        try:
            result = categories_sync(user=user)
        except Exception as error:
            problem = microsoft_problem(error)
            if problem is None:
                raise
            raise CommandError(problem) from error
        self.stdout.write(f"Outlook categories synced for {user.email}: {result}.")
