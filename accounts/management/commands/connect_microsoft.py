from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.commands import user_by_email
from accounts.microsoft import (
    PUBLIC,
    MicrosoftNotConfigured,
    MicrosoftTokenError,
    UserTokenCache,
    microsoft_connect_complete,
    microsoft_scopes,
    msal_app,
)

# AADSTS7000218 (reference-aadsts-error-codes.md): Entra ID wanted a client secret, i.e. the app
# registration does not allow public client flows, which the device-code flow is.
PUBLIC_FLOWS_DISABLED = 7000218
PUBLIC_FLOWS_HELP = (
    "Microsoft refused the device-code sign-in (AADSTS7000218): in Microsoft Entra ID, open App "
    "registrations > this app > Authentication and set 'Allow public client flows' to Yes, then "
    "run this command again."
)


class Command(BaseCommand):
    help = (
        "Connect a user's Microsoft 365 with the device-code flow (for headless servers): "
        "prints a URL and a code to enter there, then waits for the sign-in."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="The user's email address.")

    def handle(self, *args: Any, email: str, **options: Any) -> None:
        user = user_by_email(email)
        # The device-code flow is a public-client flow: no secret, now or at refresh.
        cache = UserTokenCache(PUBLIC)
        try:
            app = msal_app(cache)
        except MicrosoftNotConfigured as error:
            raise CommandError(str(error)) from error
        flow = app.initiate_device_flow(scopes=microsoft_scopes())
        if "user_code" not in flow:
            raise CommandError(
                f"Microsoft refused to start a device sign-in: "
                f"{flow.get('error_description') or flow.get('error') or flow}"
            )
        self.stdout.write(flow["message"])
        self.stdout.flush()
        result = app.acquire_token_by_device_flow(flow)
        if PUBLIC_FLOWS_DISABLED in (result.get("error_codes") or []):
            raise CommandError(PUBLIC_FLOWS_HELP)
        try:
            microsoft_connect_complete(user=user, cache=cache, result=result)
        except MicrosoftTokenError as error:
            raise CommandError(f"Microsoft 365 was not connected: {error}") from error
        account = (result.get("id_token_claims") or {}).get("preferred_username", "?")
        self.stdout.write(self.style.SUCCESS(f"Connected Microsoft 365 for {email} as {account}."))
