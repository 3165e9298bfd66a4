"""Graph checks the delegated permissions of every call; a refusal names the one to grant."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.urls import reverse

from accounts.microsoft import RECONNECT_EVENT, graph_client
from accounts.models import User
from auditing.models import ActionLog
from calendars.models import Category
from foundations.graph import BatchRequest, GraphPermissionError, permission_needed
from tests.fakes.microsoft import FakeMicrosoft
from tests.microsoft_helpers import connect_microsoft
from tests.unchanged import FAILURE_RECORDS, unchanged

pytestmark = pytest.mark.django_db(databases=["default", "web"])

# What MS_SCOPES defaulted to before categories needed MailboxSettings.
OLD_SCOPES = ["Calendars.ReadWrite", "Files.ReadWrite", "User.Read"]


def test_default_scopes_cover_every_feature() -> None:
    assert {
        "User.Read",
        "Calendars.ReadWrite",
        "Calendars.ReadWrite.Shared",
        "MailboxSettings.ReadWrite",
        "Files.ReadWrite",
    } <= set(settings.MS_SCOPES)


def test_category_sync_works_with_the_default_scopes(
    alice_client: Client, connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    fake_alice.add_category(connected_alice.email, "Acme - billable", "preset0")

    response = alice_client.post(reverse("admin:calendars_category_sync"), follow=True)

    assert "Outlook categories synced: 1 created" in response.text


@override_settings(MS_SCOPES=OLD_SCOPES)
def test_category_sync_without_mailbox_settings_names_the_permission(
    fake_alice: FakeMicrosoft, alice: User
) -> None:
    user = connect_microsoft(fake_alice, alice)
    fake_alice.add_category(user.email, "Acme - billable", "preset0")

    with (
        unchanged(microsoft=fake_alice, allow_new=FAILURE_RECORDS),
        pytest.raises(CommandError, match="MailboxSettings\\.Read"),
    ):
        call_command("sync_categories", user.email)

    assert not Category.objects.filter(user=user).exists()
    item = ActionLog.objects.get(user=user, event_type=RECONNECT_EVENT)
    assert item.state == ActionLog.State.OPEN
    assert "MailboxSettings.Read" in item.description


@override_settings(MS_SCOPES=["User.Read", "Calendars.Read"])
def test_a_batch_write_without_calendars_readwrite_is_refused_item_by_item(
    fake_alice: FakeMicrosoft, alice: User
) -> None:
    user = connect_microsoft(fake_alice, alice)
    client = graph_client(user=user)

    [response] = client.batch([BatchRequest("POST", "/me/events", body={"subject": "x"})])

    assert response.status == 403
    error = response.error()
    assert isinstance(error, GraphPermissionError)
    assert error.permission == "Calendars.ReadWrite"
    assert fake_alice.graph.mailbox(user.email).events == {}
    assert ActionLog.objects.filter(user=user, event_type=RECONNECT_EVENT).count() == 1


@override_settings(MS_SCOPES=["User.Read", "Calendars.ReadWrite"])
def test_an_upload_without_files_readwrite_names_files_readwrite(
    fake_alice: FakeMicrosoft, alice: User
) -> None:
    client = graph_client(user=connect_microsoft(fake_alice, alice))

    with pytest.raises(GraphPermissionError, match=r"Files\.ReadWrite"):
        client.request("PUT", "/me/drive/root:/Timesheets/a.csv:/content", data=b"x")


@pytest.mark.parametrize(
    ("method", "path", "permission"),
    [
        ("GET", "/me", "User.Read"),
        ("GET", "https://graph.microsoft.com/v1.0/me/calendarView", "Calendars.Read"),
        ("POST", "/me/calendars/AAMk=/events", "Calendars.ReadWrite"),
        ("PATCH", "/me/events/AAMk=", "Calendars.ReadWrite"),
        ("GET", "/users/boss@example.com/calendars", "Calendars.Read.Shared"),
        ("POST", "/users/boss@example.com/events", "Calendars.ReadWrite.Shared"),
        ("GET", "/me/outlook/masterCategories", "MailboxSettings.Read"),
        ("POST", "/me/outlook/masterCategories", "MailboxSettings.ReadWrite"),
        ("GET", "/me/mailboxSettings", "MailboxSettings.Read"),
        ("GET", "/me/drive/root:/a.pdf", "Files.Read"),
        ("POST", "/me/drive/root:/a.pdf:/createUploadSession", "Files.ReadWrite"),
    ],
)
def test_permission_needed_follows_the_graph_reference(
    method: str, path: str, permission: str
) -> None:
    assert permission_needed(method, path) == permission
