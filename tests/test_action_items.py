"""Action items: a person resolves or dismisses what needs attention, in the admin or the API."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from accounts.models import User
from auditing.models import ActionLog, AuditLog
from tests.api_helpers import api, without_throttling
from tests.unchanged import unchanged

pytestmark = pytest.mark.django_db(databases=["default", "web"])


# -- in the admin --------------------------------------------------------------------------------


def test_resolving_action_items_in_the_admin_closes_and_audits_them(
    alice_client: Client, alice: User
) -> None:
    item = ActionLog.objects.create(user=alice, event_type="overlap", description="Clash")

    alice_client.post(
        reverse("admin:auditing_actionlog_changelist"),
        {"action": "resolve", "_selected_action": [item.pk]},
    )

    item.refresh_from_db()
    assert item.state == "resolved"
    assert item.closed_by == alice and item.closed_at is not None
    assert AuditLog.objects.filter(
        action_type="action_log", operation="resolved", resource_id=str(item.pk)
    ).exists()


def test_dismissing_leaves_already_closed_items_alone(alice_client: Client, alice: User) -> None:
    done = ActionLog.objects.create(
        user=alice, event_type="overlap", state="resolved", closed_at=timezone.now()
    )
    open_item = ActionLog.objects.create(user=alice, event_type="uncategorised")

    response = alice_client.post(
        reverse("admin:auditing_actionlog_changelist"),
        {"action": "dismiss", "_selected_action": [done.pk, open_item.pk]},
        follow=True,
    )

    done.refresh_from_db()
    open_item.refresh_from_db()
    assert (done.state, open_item.state) == ("resolved", "dismissed")
    assert "1 item(s) dismissed." in response.text


# -- through the API -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def unthrottled(settings: Settings) -> None:
    without_throttling(settings)


def test_resolving_an_action_item_closes_it_and_audits_it(
    alice: User, alice_api: APIClient
) -> None:
    item = ActionLog.objects.create(user=alice, event_type="uncategorised", description="Lunch")

    response = alice_api.post(api("action-log-resolve", item.pk), HTTP_X_REQUEST_ID="resolve-1")

    assert response.status_code == 200
    assert response.json()["state"] == "resolved"
    assert response.json()["closed_by"] == alice.pk
    assert AuditLog.objects.get(action_type="action_log").correlation_id == "resolve-1"


def test_dismissing_a_closed_item_is_409(alice: User, alice_api: APIClient) -> None:
    item = ActionLog.objects.create(
        user=alice, event_type="uncategorised", state="resolved", closed_at=timezone.now()
    )

    with unchanged():
        response = alice_api.post(api("action-log-dismiss", item.pk))

    assert response.status_code == 409
