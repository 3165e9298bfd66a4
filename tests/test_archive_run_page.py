"""The archive run page: "Archive now" leads to it; it reports the run's state and summary."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from django_q.conf import Conf

from accounts.models import User
from archiving.models import ArchiveConfiguration
from archiving.phrases import DateRange
from archiving.services import archive_queue
from tests.archive_helpers import add_event
from tests.factories import ArchiveConfigurationFactory
from tests.fakes.microsoft import FakeMicrosoft

pytestmark = pytest.mark.django_db(databases=["default", "web"])


@pytest.fixture
def config(connected_alice: User) -> ArchiveConfiguration:
    return ArchiveConfigurationFactory(user=connected_alice)


def queue(config: ArchiveConfiguration, capture: object) -> str:
    with capture(execute=True):
        queued = archive_queue(
            configuration=config, dates=DateRange(date(2025, 5, 8), date(2025, 5, 8))
        )
    return queued.task_id


def test_a_queued_run_shows_as_queued_and_polls_its_state(
    config: ArchiveConfiguration, alice_client: Client, django_capture_on_commit_callbacks: object
) -> None:
    task_id = queue(config, django_capture_on_commit_callbacks)
    page = alice_client.get(reverse("admin:archiving_archive_run", args=[task_id]))
    assert page.status_code == 200
    assert 'data-finished="false"' in page.text and "archiving/archive_run.js" in page.text
    assert "<script>" not in page.text
    state = alice_client.get(reverse("admin:archiving_archive_run_status", args=[task_id])).json()
    assert (state["status"], state["finished"]) == ("queued", False)


def test_a_finished_run_shows_its_summary_and_the_items_it_opened(
    config: ArchiveConfiguration,
    fake_alice: FakeMicrosoft,
    connected_alice: User,
    alice_client: Client,
    django_capture_on_commit_callbacks: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Conf, "SYNC", True)
    add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")
    add_event(
        fake_alice, connected_alice, "Mystery meeting", "2025-05-08T14:00", categories=["Misc"]
    )
    task_id = queue(config, django_capture_on_commit_callbacks)
    state = alice_client.get(reverse("admin:archiving_archive_run_status", args=[task_id])).json()
    assert state["finished"] and state["outcome"] == "success"
    assert {"name": "copied", "value": 2} in state["counts"]
    assert len(state["items"]) == 1 and "Mystery meeting" in state["items"][0]["description"]
    page = alice_client.get(reverse("admin:archiving_archive_run", args=[task_id])).text
    assert 'data-finished="true"' in page and "2 copied" in page


def test_archive_now_leads_to_the_run_page(
    config: ArchiveConfiguration, alice_client: Client, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            reverse("admin:archiving_archiveconfiguration_changelist"),
            {"action": "archive_now", "_selected_action": [config.pk]},
            follow=True,
        )
    assert "queued; follow it in the" in response.text


def test_bob_cannot_watch_alices_run(
    config: ArchiveConfiguration, bob_client: Client, django_capture_on_commit_callbacks: object
) -> None:
    task_id = queue(config, django_capture_on_commit_callbacks)
    response = bob_client.get(reverse("admin:archiving_archive_run_status", args=[task_id]))
    assert response.status_code == 404
