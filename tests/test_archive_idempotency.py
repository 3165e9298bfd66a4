"""Re-runs, interrupted runs, throttling and concurrent runs never duplicate or lose anything."""

from __future__ import annotations

import os
import socket

import pytest

from accounts.microsoft import graph_client
from accounts.models import User
from archiving.gateway import SOURCE_ID_PROPERTY
from archiving.models import ArchiveConfiguration
from archiving.run import ArchiveAlreadyRunning
from auditing.models import ActionLog, AuditLog
from calendars.models import Appointment, Calendar
from foundations.graph import transaction_id
from tests.archive_helpers import add_event, archive_copies, run_archive, writes
from tests.factories import ArchiveConfigurationFactory
from tests.fakes.microsoft import FakeMicrosoft
from tests.microsoft_helpers import RecordedSleep

pytestmark = pytest.mark.django_db(databases=["default", "web"])


@pytest.fixture
def config(connected_alice: User) -> ArchiveConfiguration:
    return ArchiveConfigurationFactory(user=connected_alice)


@pytest.fixture
def busy_day(fake_alice: FakeMicrosoft, connected_alice: User) -> list[dict]:
    return [
        add_event(
            fake_alice,
            connected_alice,
            f"Meeting {n}",
            f"2025-05-08T{8 + n // 4:02d}:{n % 4 * 15:02d}",
            10,
        )
        for n in range(40)
    ]


def test_rerun_creates_no_duplicates_and_writes_nothing(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User, busy_day: list
) -> None:
    run_archive(config)
    before = len(fake_alice.graph_requests())

    result = run_archive(config)

    again = fake_alice.graph_requests()[before:]
    assert [r for r in again if r.method != "GET"] == []
    assert (result.counts.created, result.counts.updated, result.counts.copied) == (0, 0, 0)
    assert result.counts.copies_unchanged == 40
    assert Appointment.objects.count() == 40
    assert len(archive_copies(fake_alice, connected_alice)) == 40


def test_a_changed_source_event_updates_its_copy(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    source = add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")
    run_archive(config)
    graph = graph_client(user=connected_alice)
    graph.request("PATCH", f"me/events/{source['id']}", json={"subject": "Acme design review"})

    result = run_archive(config)

    [copy] = archive_copies(fake_alice, connected_alice)
    assert copy["subject"] == "Acme design review"
    assert Appointment.objects.get().subject == "Acme design review"
    assert (result.counts.updated, result.counts.copies_updated) == (1, 1)


def test_a_source_event_deleted_after_archiving_keeps_its_copy_and_opens_an_item(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    source = add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")
    run_archive(config)
    graph_client(user=connected_alice).request("DELETE", f"me/events/{source['id']}")

    run_archive(config)
    run_archive(config)

    assert len(archive_copies(fake_alice, connected_alice)) == 1
    item = ActionLog.objects.get(event_type="source_deleted")
    assert "Acme review" in item.description
    appointment = Appointment.objects.get()
    assert appointment.source_deleted_at is not None
    assert not appointment.is_cancelled


class Killed(Exception):
    """Stands for the process dying between two chunks of copies."""


def test_a_run_killed_half_way_finishes_on_rerun_with_one_copy_each(
    config: ArchiveConfiguration,
    fake_alice: FakeMicrosoft,
    connected_alice: User,
    busy_day: list,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("archiving.run.copy.COPY_CHUNK", 20)

    def die_after_first_chunk(done: int, total: int) -> None:
        raise Killed

    with pytest.raises(Killed):
        run_archive(config, progress=die_after_first_chunk)
    assert len(archive_copies(fake_alice, connected_alice)) == 20

    result = run_archive(config)

    copies = archive_copies(fake_alice, connected_alice)
    assert len(copies) == 40
    assert len({c["singleValueExtendedProperties"][0]["value"] for c in copies}) == 40
    assert result.counts.copied == 20
    assert AuditLog.objects.filter(operation="run", status="failure").count() == 1


def test_copies_created_before_a_crash_could_record_them_are_not_duplicated(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User, busy_day: list
) -> None:
    # The previous run created these copies in Outlook, then died before saving their ids.
    graph = graph_client(user=connected_alice)
    archive = graph.create_calendar("Billable Archive")
    Calendar.objects.create(
        user=connected_alice, name="Billable Archive", ms_calendar_id=archive["id"]
    )
    graph.create_events(
        archive["id"],
        [
            {
                "subject": event["subject"],
                "start": event["start"],
                "end": event["end"],
                "transactionId": transaction_id("archive", archive["id"], event["id"]),
                "singleValueExtendedProperties": [{"id": SOURCE_ID_PROPERTY, "value": event["id"]}],
            }
            for event in busy_day[:15]
        ],
    )

    run_archive(config)

    assert len(archive_copies(fake_alice, connected_alice)) == 40


def test_a_429_storm_slows_the_run_down_but_everything_is_copied(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User, busy_day: list
) -> None:
    sleep = RecordedSleep()
    fake_alice.inject(status=429, retry_after=2, fraction=0.4, times=60, path_contains="/events")

    result = run_archive(config, sleep=sleep)

    assert result.status == "success"
    assert len(archive_copies(fake_alice, connected_alice)) == 40
    assert sleep.waits and all(wait == 2.0 for wait in sleep.waits)


def test_items_that_keep_failing_make_the_run_partial_and_a_rerun_completes_it(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User, busy_day: list
) -> None:
    fake_alice.inject(status=400, path_contains="/events", method="POST", times=5)

    first = run_archive(config)

    assert first.status == "partial"
    assert first.counts.errors == 5
    assert len(archive_copies(fake_alice, connected_alice)) == 35
    fake_alice.clear_faults()
    second = run_archive(config)
    assert second.status == "success"
    assert len(archive_copies(fake_alice, connected_alice)) == 40


def test_a_second_concurrent_run_says_so_and_touches_nothing(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User, busy_day: list
) -> None:
    live_owner = f"{socket.gethostname()}:{os.getpid()}:other-run"
    ArchiveConfiguration.objects.filter(pk=config.pk).update(run_lock_owner=live_owner)
    requests_before = len(fake_alice.graph_requests())

    with pytest.raises(ArchiveAlreadyRunning, match="is already being archived"):
        run_archive(config)

    assert len(fake_alice.graph_requests()) == requests_before
    assert not Appointment.objects.exists()
    assert not AuditLog.objects.filter(operation="run").exists()


def test_the_lock_of_a_killed_process_on_this_machine_is_taken_over(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, busy_day: list
) -> None:
    dead_owner = f"{socket.gethostname()}:999999999:killed-run"
    ArchiveConfiguration.objects.filter(pk=config.pk).update(run_lock_owner=dead_owner)

    result = run_archive(config)

    assert result.status == "success"
    config.refresh_from_db()
    assert config.run_lock_owner is None


def test_a_dry_run_writes_nothing_anywhere(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User, busy_day: list
) -> None:
    result = run_archive(config, dry_run=True)

    assert result.counts.created == 40
    assert result.counts.copied == 40
    assert writes(fake_alice) == []
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("changed", [False, True], ids=["unchanged", "renamed"])
def test_a_run_killed_after_graph_accepted_the_copies_adopts_them_on_rerun(
    config: ArchiveConfiguration,
    fake_alice: FakeMicrosoft,
    connected_alice: User,
    monkeypatch: pytest.MonkeyPatch,
    changed: bool,
) -> None:
    source = add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")
    from archiving.models import ArchiveCopy

    def killed(*args: object, **kwargs: object) -> None:
        raise Killed  # the answer of the batch was lost: nothing was recorded

    with monkeypatch.context() as patch:
        patch.setattr(ArchiveCopy.objects, "bulk_create", killed)
        with pytest.raises(Killed):
            run_archive(config)
    assert len(archive_copies(fake_alice, connected_alice)) == 1
    if changed:
        graph_client(user=connected_alice).request(
            "PATCH", f"me/events/{source['id']}", json={"subject": "Acme design review"}
        )

    result = run_archive(config)

    copies = archive_copies(fake_alice, connected_alice)
    expected = "Acme design review" if changed else "Acme review"
    assert [c["subject"] for c in copies] == [expected]
    assert result.counts.errors == 0
    recorded = ArchiveCopy.objects.get()
    assert recorded.event_id == copies[0]["id"]
    assert run_archive(config).counts.copies_unchanged == 1
