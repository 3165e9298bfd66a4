"""Step 1: both calendars, each in its mailbox, found (and the archive made) before anything
else is written. A calendar URI may name another mailbox: the run then reads or writes that one
with the delegated `.Shared` permission, or stops; it never falls back to the user's own."""

from __future__ import annotations

from typing import Any

from archiving.models import ArchiveConfiguration
from archiving.run.record import ArchiveRunError, Run
from calendars.models import Calendar
from calendars.uris import parse_calendar_uri
from foundations.graph import GraphClient, GraphError


def calendars_resolve(run: Run) -> None:
    """Set the run's source and destination calendars (and the clients of their mailboxes)."""
    configuration = run.configuration
    source_uri = parse_calendar_uri(configuration.source_calendar_uri)
    destination_uri = parse_calendar_uri(configuration.destination_calendar_uri)
    run.source_client = _client_for(run, source_uri.account)
    run.destination_client = _client_for(run, destination_uri.account)
    found_source = _find_calendar(run, run.source_client, source_uri.calendar, archive=False)
    found_destination = _find_calendar(
        run, run.destination_client, destination_uri.calendar, archive=True
    )
    run.source = _calendar_row(run, found_source, run.source_client, archive=False)
    run.destination = _calendar_row(run, found_destination, run.destination_client, archive=True)
    _remember_calendars(run, run.source, run.destination)


def _client_for(run: Run, account: str | None) -> GraphClient:
    """The user's own mailbox, or the one the URI names; never the one for the other."""
    own = {"me", (run.user.email or "").casefold()}
    if account is None or account.casefold() in own:
        return run.client
    return run.client.for_mailbox(account)


def _mailbox(client: GraphClient) -> str:
    return "" if client.mailbox == "me" else client.mailbox.removeprefix("users/")


def _find_calendar(run: Run, client: GraphClient, name: str, *, archive: bool) -> dict[str, Any]:
    mailbox = _mailbox(client)
    email = run.user.email
    try:
        found = client.resolve_calendar(name)
        if found is None and not archive:
            where = f"the mailbox of {mailbox}" if mailbox else "Outlook"
            raise ArchiveRunError(f"The source calendar “{name}” does not exist in {where}.")
        if found is None and run.dry_run:
            return {"id": None, "name": name, "canEdit": True}
        if found is None:
            found = client.create_calendar(name)
    except GraphError as error:
        if not mailbox or error.status not in (401, 403, 404):
            raise
        raise ArchiveRunError(
            f"{email} may not {'write to' if archive else 'read'} the calendars "
            f"of {mailbox} ({error.code or error.status}): {mailbox} must share the calendar "
            f"with {email} in Outlook ({'with write access' if archive else 'read'}"
            " or delegate access), and the app needs the delegated permission "
            "Calendars.ReadWrite.Shared (in MS_SCOPES; reconnect Microsoft 365 after adding "
            "it). Nothing was archived."
        ) from error
    if archive and mailbox and found.get("canEdit") is False:
        raise ArchiveRunError(
            f"{email} may read but not write the calendar “{found.get('name')}” "
            f"of {mailbox}: it must be shared with write access. Nothing was archived."
        )
    return found


def _calendar_row(
    run: Run, found: dict[str, Any], client: GraphClient, *, archive: bool
) -> Calendar:
    mailbox = _mailbox(client)
    name = found.get("name") or ""
    user = run.user
    if found.get("id") is None:
        return Calendar(user=user, name=name, is_archive=True, mailbox=mailbox)
    if run.dry_run:
        existing = Calendar.objects.filter(user=user, ms_calendar_id=found["id"]).first()
        return existing or Calendar(
            user=user, name=name, ms_calendar_id=found["id"], is_archive=archive, mailbox=mailbox
        )
    calendar, created = Calendar.objects.get_or_create(
        user=user,
        ms_calendar_id=found["id"],
        defaults={"name": name, "is_archive": archive, "mailbox": mailbox},
    )
    wanted = (name, archive, mailbox)
    if not created and (calendar.name, calendar.is_archive, calendar.mailbox) != wanted:
        calendar.name, calendar.is_archive, calendar.mailbox = wanted
        calendar.save(update_fields=["name", "is_archive", "mailbox", "updated_at"])
    return calendar


def _remember_calendars(run: Run, source: Calendar, destination: Calendar) -> None:
    configuration = run.configuration
    known = (configuration.source_calendar_id, configuration.destination_calendar_id)
    if run.dry_run or known == (source.pk, destination.pk):
        return
    configuration.source_calendar, configuration.destination_calendar = source, destination
    ArchiveConfiguration.objects.filter(pk=configuration.pk).update(
        source_calendar=source, destination_calendar=destination
    )
