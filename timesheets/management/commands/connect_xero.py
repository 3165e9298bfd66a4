from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.commands import user_by_email
from timesheets.xero import xero_connect_finish, xero_connect_start
from timesheets.xero_client import XeroError


class Command(BaseCommand):
    help = (
        "Connect a user's Xero organisation without a browser on this machine: prints the "
        "authorization URL, then reads the URL the browser was sent back to (standard input), "
        "or completes a sign-in started earlier with --redirect-url."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="The user's email address.")
        parser.add_argument(
            "--redirect-url",
            help="The URL Xero redirected the browser to, for a sign-in this command started.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = user_by_email(options["email"])
        try:
            redirect = options["redirect_url"]
            if not redirect:
                url = xero_connect_start(user=user)
                self.stdout.write("Open this URL, allow access, then paste the URL you land on:")
                self.stdout.write(url)
                self.stdout.flush()
                redirect = sys.stdin.readline().strip()
                if not redirect:
                    raise CommandError("No redirect URL was given.")
            connection = xero_connect_finish(user=user, redirect_url=redirect)
        except XeroError as error:
            raise CommandError(str(error)) from error
        if connection.tenant_id:
            self.stdout.write(f"Connected to Xero: {connection.tenant_name}")
        else:
            names = ", ".join(t["tenantName"] for t in connection.tenants)
            self.stdout.write(
                f"Connected to Xero; choose the organisation on your Xero connection page: {names}"
            )
