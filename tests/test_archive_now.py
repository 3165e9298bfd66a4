"""Archiving on demand: `manage.py archive`, the admin's "Archive now" and the API's archive run."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django_q.conf import Conf
from django_q.models import OrmQ
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from accounts.models import User
from archiving.models import ArchiveConfiguration
from calendars.models import Appointment
from tests.api_helpers import api, api_client, without_throttling
from tests.archive_helpers import add_event, archive_copies, writes
from tests.factories import ArchiveConfigurationFactory
from tests.fakes.microsoft import FakeMicrosoft
from tests.unchanged import FAILURE_RECORDS, unchanged

pytestmark = pytest.mark.django_db(databases=["default", "web"])


@pytest.fixture
def config(connected_alice: User) -> ArchiveConfiguration:
    return ArchiveConfigurationFactory(user=connected_alice)


def test_archive_by_name_for_a_date_prints_a_summary(
    config: ArchiveConfiguration,
    fake_alice: FakeMicrosoft,
    connected_alice: User,
    capsys: pytest.CaptureFixture[str],
) -> None:
    add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")

    call_command("archive", "daily ARCHIVE", "--date", "8 May 2025")

    out = capsys.readouterr().out
    assert "Archiving “Daily archive” for alice@example.com: 2025-05-08 (Europe/London)" in out
    assert "Copied to the archive calendar" in out
    assert "Status: success" in out
    assert len(archive_copies(fake_alice, connected_alice)) == 1


def test_archive_by_id_for_a_range(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    add_event(fake_alice, connected_alice, "Monday", "2025-05-05T10:00")
    add_event(fake_alice, connected_alice, "Friday", "2025-05-09T10:00")

    call_command("archive", str(config.pk), "--date", "2025-05-05 to 2025-05-09")

    assert Appointment.objects.count() == 2


def test_dry_run_reports_and_writes_nothing(
    config: ArchiveConfiguration,
    fake_alice: FakeMicrosoft,
    connected_alice: User,
    capsys: pytest.CaptureFixture[str],
) -> None:
    add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")

    call_command("archive", "Daily archive", "--date", "2025-05-08", "--dry-run")

    assert "dry run" in capsys.readouterr().out
    assert not Appointment.objects.exists()
    assert writes(fake_alice) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Nope"], "No archive configuration has the id or name “Nope”"),
        (
            ["Daily archive", "--date", "fortnight ago"],
            "is not a date phrase this archive understands",
        ),
        (["Daily archive", "--date", "2025-05-09 to 2025-05-01"], "before"),
    ],
)
def test_bad_input_is_one_clear_error_and_changes_nothing(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, args: list[str], message: str
) -> None:
    before = fake_alice.graph_requests()  # connecting read the mailbox's time zone

    with unchanged(microsoft=fake_alice), pytest.raises(CommandError, match=message):
        call_command("archive", *args)

    assert not Appointment.objects.exists()
    assert fake_alice.graph_requests() == before


def test_a_partial_run_exits_with_an_error(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")
    fake_alice.inject(status=400, path_contains="/events", method="POST", times=None)

    with pytest.raises(CommandError, match="finished with 1 error"):
        call_command("archive", "Daily archive", "--date", "2025-05-08")


def test_a_disconnected_user_is_a_clear_error(alice: User, fake_alice: FakeMicrosoft) -> None:
    ArchiveConfigurationFactory(user=alice)

    with (
        unchanged(microsoft=fake_alice, allow_new=FAILURE_RECORDS),
        pytest.raises(CommandError, match="has not connected Microsoft 365"),
    ):
        call_command("archive", "Daily archive", "--date", "2025-05-08")


def test_archive_now_in_the_admin_queues_a_run_and_links_to_its_audit_rows(
    config: ArchiveConfiguration,
    alice_client: Client,
    django_capture_on_commit_callbacks: object,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            reverse("admin:archiving_archiveconfiguration_archive_now", args=[config.pk]),
            {"dates": "last 3 days"},
            follow=True,
            HTTP_X_REQUEST_ID="archive-now-1",
        )

    assert "queued; follow it in the" in response.text
    assert "?correlation_id=archive-now-1" in response.text
    assert OrmQ.objects.using("web").count() == 1


def test_archive_now_refuses_a_bad_date_phrase(
    config: ArchiveConfiguration, alice_client: Client
) -> None:
    with unchanged():
        response = alice_client.post(
            reverse("admin:archiving_archiveconfiguration_archive_now", args=[config.pk]),
            {"dates": "the day after tomorrow"},
        )

    assert response.status_code == 200
    assert "is not a date phrase this archive understands" in response.text
    assert OrmQ.objects.using("web").count() == 0


def test_archive_now_runs_the_archive_on_the_cluster(
    config: ArchiveConfiguration,
    fake_alice: FakeMicrosoft,
    connected_alice: User,
    alice_client: Client,
    django_capture_on_commit_callbacks: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Conf, "SYNC", True)
    add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")

    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(
            reverse("admin:archiving_archiveconfiguration_archive_now", args=[config.pk]),
            {"dates": "2025-05-08"},
        )

    assert len(archive_copies(fake_alice, connected_alice)) == 1


def test_bob_cannot_archive_alices_configuration(
    config: ArchiveConfiguration, bob_client: Client
) -> None:
    with unchanged():
        response = bob_client.post(
            reverse("admin:archiving_archiveconfiguration_archive_now", args=[config.pk]),
            {"dates": "yesterday"},
        )

    assert response.status_code == 404


def test_the_archive_now_action_queues_yesterday_for_each_selected_configuration(
    config: ArchiveConfiguration,
    alice_client: Client,
    django_capture_on_commit_callbacks: object,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            reverse("admin:archiving_archiveconfiguration_changelist"),
            {"action": "archive_now", "_selected_action": [config.pk]},
            follow=True,
        )

    assert "Archive of “Daily archive” for" in response.text
    assert OrmQ.objects.using("web").count() == 1


# -- through the API -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def unthrottled(settings: Settings) -> None:
    without_throttling(settings)


@pytest.mark.django_db(databases=["default", "web"], transaction=True)
def test_an_archive_run_through_the_api_archives_and_reports_success(
    connected_alice: User, fake_alice: FakeMicrosoft, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Conf, "SYNC", True)  # django-q2 runs the queued task in-process
    configuration = ArchiveConfigurationFactory(user=connected_alice)
    add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")
    client = api_client(connected_alice)

    queued = client.post(
        api("archive-configuration-run", configuration.pk),
        {"dates": "8 May 2025"},
        format="json",
        HTTP_X_REQUEST_ID="api-run-1",
    )
    status = client.get(api("archive-run-detail", queued.json()["task_id"]))

    assert queued.status_code == 202
    assert queued.json()["correlation_id"] == "api-run-1"
    assert queued.json()["dates"] == "2025-05-08"
    assert status.status_code == 200
    body = status.json()
    assert body["status"] == "success"
    assert body["result"]["status"] == "success"
    assert (body["start"], body["end"]) == ("2025-05-08", "2025-05-08")
    assert {"run", "enqueue"} <= {row["operation"] for row in body["audit"]}
    assert Appointment.objects.get(user=connected_alice).subject == "Acme review"
    assert len(archive_copies(fake_alice, connected_alice)) == 1


@pytest.mark.django_db(databases=["default", "web"], transaction=True)
def test_a_queued_run_reports_queued_until_a_worker_takes_it(alice: User) -> None:
    configuration = ArchiveConfigurationFactory(user=alice)
    client = api_client(alice)

    queued = client.post(api("archive-configuration-run", configuration.pk), {}, format="json")
    status = client.get(queued.json()["status_url"])

    assert queued.status_code == 202
    assert OrmQ.objects.count() == 1
    assert status.json()["status"] == "queued"
    assert status.json()["audit"][0]["operation"] == "enqueue"


def test_a_run_refuses_a_date_phrase_it_does_not_understand(alice: User) -> None:
    configuration = ArchiveConfigurationFactory(user=alice)
    client = api_client(alice)

    with unchanged():
        response = client.post(
            api("archive-configuration-run", configuration.pk),
            {"dates": "the day after tomorrow"},
            format="json",
        )

    assert response.status_code == 400
    assert "is not a date phrase this archive understands" in response.json()["dates"][0]
    assert OrmQ.objects.count() == 0


def test_an_unknown_task_id_answers_404(alice_api: APIClient) -> None:
    assert alice_api.get(api("archive-run-detail", "f" * 32)).status_code == 404
    assert alice_api.get(api("archive-run-detail", "not-a-task")).status_code == 404
