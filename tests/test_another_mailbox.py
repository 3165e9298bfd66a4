"""An assistant archives a principal's calendar: `msgraph://boss@example.com/calendars/...`
reads and writes that mailbox with the .Shared permission, or stops before writing anything."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings

from accounts.models import User
from archiving.run import ArchiveRunError
from calendars.models import Appointment, Calendar
from tests.archive_helpers import add_event, run_archive
from tests.factories import ArchiveConfigurationFactory, UserFactory
from tests.fakes.microsoft import FakeMicrosoft
from tests.microsoft_helpers import connect_microsoft

pytestmark = pytest.mark.django_db(databases=["default", "web"])

BOSS = "boss@example.com"


@pytest.fixture
def shared_scopes(settings: Settings) -> None:
    if "Calendars.ReadWrite.Shared" not in settings.MS_SCOPES:
        settings.MS_SCOPES = [*settings.MS_SCOPES, "Calendars.ReadWrite.Shared"]


@pytest.fixture
def boss(fake_microsoft: FakeMicrosoft) -> FakeMicrosoft:
    fake_microsoft.add_user(BOSS, name="Bea Boss")
    fake_microsoft.add_calendar(BOSS, "Boss Archive")
    return fake_microsoft


@pytest.fixture
def assistant(fake_microsoft: FakeMicrosoft, boss: FakeMicrosoft) -> User:
    user = UserFactory(
        email="assistant@example.com", name="Asha Assistant", timezone="Europe/London"
    )
    fake_microsoft.add_user(user.email, name=user.name)
    return user


def boss_configuration(user: User):
    return ArchiveConfigurationFactory(
        user=user,
        source_calendar_uri=f"msgraph://{BOSS}/calendars/Calendar",
        destination_calendar_uri=f'msgraph://{BOSS}/calendars/"Boss Archive"',
    )


def test_a_delegate_with_access_archives_the_principals_calendar_into_theirs(
    shared_scopes: None, boss: FakeMicrosoft, assistant: User
) -> None:
    boss.share_calendar(BOSS, assistant.email, "write")
    assistant = connect_microsoft(boss, assistant)
    boss_user = User(email=BOSS)
    add_event(boss, boss_user, "Board meeting", "2025-05-08T10:00")
    add_event(boss, assistant, "Assistant's own call", "2025-05-08T12:00")

    result = run_archive(boss_configuration(assistant))

    assert result.counts.copied == 1
    assert [e["subject"] for e in boss.events(BOSS, "Boss Archive")] == ["Board meeting"]
    # Nothing of the assistant's own mailbox was read as the boss's, nor written.
    assert Appointment.objects.get().subject == "Board meeting"
    assert [c["name"] for c in boss.calendars(assistant.email)] == ["Calendar"]
    assert Calendar.objects.get(is_archive=True).mailbox == BOSS


@pytest.mark.parametrize(
    ("shared", "scoped"),
    [(None, True), ("read", True), ("write", False)],
    ids=["not shared", "shared read-only", "no Shared permission"],
)
def test_a_delegate_without_access_is_stopped_before_anything_is_written(
    settings: Settings,
    boss: FakeMicrosoft,
    assistant: User,
    shared: str | None,
    scoped: bool,
) -> None:
    without = [s for s in settings.MS_SCOPES if not s.endswith(".Shared")]
    settings.MS_SCOPES = [*without, "Calendars.ReadWrite.Shared"] if scoped else without
    if shared:
        boss.share_calendar(BOSS, assistant.email, shared)
    assistant = connect_microsoft(boss, assistant)
    add_event(boss, User(email=BOSS), "Board meeting", "2025-05-08T10:00")
    add_event(boss, assistant, "Assistant's own call", "2025-05-08T12:00")
    before = [c["name"] for c in boss.calendars(assistant.email)]

    with pytest.raises(ArchiveRunError) as stopped:
        run_archive(boss_configuration(assistant))

    message = str(stopped.value)
    assert BOSS in message
    assert "Calendars.ReadWrite.Shared" in message or "write access" in message
    assert not Appointment.objects.exists()
    assert not Calendar.objects.exists()
    assert boss.events(BOSS, "Boss Archive") == []
    # Never a fall-back to the assistant's own mailbox.
    assert [c["name"] for c in boss.calendars(assistant.email)] == before
    assert len(boss.events(assistant.email, "Calendar")) == 1
