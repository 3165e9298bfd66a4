"""Calendar URIs: `msgraph://[account/]calendars/<name-or-id>`.

The calendar part is a display name or a Graph id. A name with spaces or slashes is written in
double quotes (`calendars/"Billable Archive"`) or %-encoded (`calendars/Billable%20Archive`).
The account part, when present, is the mailbox (`alice@example.com`) or `me`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

SCHEME = "msgraph://"
_ACCOUNT = re.compile(r"^(me|[^\s/@]+@[^\s/@]+\.[^\s/@]+)$")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


class CalendarURIError(ValueError):
    """The URI is not a valid calendar URI; the message says what is wrong."""


@dataclass(frozen=True)
class CalendarURI:
    calendar: str
    account: str | None = None

    def __str__(self) -> str:
        prefix = f"{SCHEME}{self.account}/" if self.account else SCHEME
        return f"{prefix}calendars/{quote(self.calendar, safe='')}"


def parse_calendar_uri(uri: str) -> CalendarURI:
    text = (uri or "").strip()
    if not text:
        raise CalendarURIError("A calendar URI is required, e.g. msgraph://calendars/Calendar.")
    if not text.lower().startswith(SCHEME):
        raise CalendarURIError(
            f"A calendar URI starts with {SCHEME} (e.g. msgraph://calendars/Calendar); "
            f"got {text!r}."
        )
    rest = text[len(SCHEME) :]
    marker = rest.find("calendars/")
    if marker == -1:
        raise CalendarURIError(
            "A calendar URI names a calendar after 'calendars/', "
            "e.g. msgraph://calendars/Calendar or msgraph://alice@example.com/calendars/Archive."
        )
    account_part, name_part = rest[:marker], rest[marker + len("calendars/") :]
    account = _parse_account(account_part)
    return CalendarURI(calendar=_parse_name(name_part), account=account)


def _parse_account(part: str) -> str | None:
    if part == "":
        return None
    if not part.endswith("/"):
        raise CalendarURIError("Separate the account from 'calendars/' with a slash.")
    account = unquote(part[:-1])
    if not _ACCOUNT.match(account):
        raise CalendarURIError(f"The account {account!r} is not an email address or 'me'.")
    return account


def _parse_name(part: str) -> str:
    if part.startswith('"'):
        if len(part) < 2 or not part.endswith('"'):
            raise CalendarURIError("The calendar name opens a double quote but does not close it.")
        name = part[1:-1]
        if '"' in name:
            raise CalendarURIError("A quoted calendar name cannot contain another double quote.")
    else:
        if '"' in part:
            raise CalendarURIError('Quote the whole calendar name: calendars/"My Calendar".')
        if "/" in part:
            raise CalendarURIError(
                "The calendar name contains '/': quote it (calendars/\"A/B\") "
                "or %-encode it (calendars/A%2FB)."
            )
        if _BAD_PERCENT.search(part):
            raise CalendarURIError(
                "The calendar name has a '%' that is not followed by two hex digits."
            )
        try:
            name = unquote(part, errors="strict")
        except UnicodeDecodeError as error:
            raise CalendarURIError("The %-encoded calendar name is not valid UTF-8.") from error
    if not name.strip():
        raise CalendarURIError("The calendar name is empty.")
    if len(name) > 255:
        raise CalendarURIError("The calendar name is longer than 255 characters.")
    if any(ord(char) < 32 for char in name):
        raise CalendarURIError("The calendar name contains control characters.")
    return name.strip()


def validate_calendar_uri(value: str) -> None:
    """Django validator: a form or model error whose message says what is wrong."""
    from django.core.exceptions import ValidationError

    try:
        parse_calendar_uri(value)
    except CalendarURIError as error:
        raise ValidationError(str(error), code="invalid_calendar_uri") from error
