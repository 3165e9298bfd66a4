"""The attention inbox through the admin, the REST API and `manage.py attention`: the same
structured recommendations, applied or dismissed in one click, audited."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from archiving.models import CategoryDecision
from auditing.models import ActionLog, AuditLog
from auditing.recommendations import recommendation
from calendars.models import Appointment
from tests.api_helpers import api
from tests.factories import AppointmentFactory
from timesheets.models import CustomerSettings

pytestmark = pytest.mark.django_db(databases=["default", "web"])


def coffee_item(user: User, *, confidence: float = 0.9, subject: str = "Coffee") -> ActionLog:
    """An open possibly-billable item whose top recommendation is "not billable"."""
    appointment = AppointmentFactory(
        user=user,
        subject=subject,
        start_time=datetime(2025, 5, 8, 13, tzinfo=UTC),
        end_time=datetime(2025, 5, 8, 14, 30, tzinfo=UTC),
        categories=[],
        customer=None,
        billing_type=None,
        ms_event_data={"attendees": [{"emailAddress": {"address": "gianni@modena.example"}}]},
    )
    item, _ = ActionLog.objects.open_item(
        user=user,
        event_type=ActionLog.EventType.POSSIBLY_BILLABLE,
        key=appointment.pk,
        description=f"“{subject}” has no category but people from modena.example",
        details={"appointment": appointment.pk},
        recommendations=[
            recommendation(
                id="set-category-modena",
                label="Bill it: set the category 'Modena - billable'",
                action="set_category",
                params={"category": "Modena - billable"},
                confidence=confidence - 0.2,
                reason="2 of your 3 meetings with people at modena.example were 'Modena - "
                "billable'.",
            ),
            recommendation(
                id="mark-personal",
                label="Not billable: leave it off the invoice",
                action="mark_personal",
                confidence=confidence,
                reason="Your one meeting with gianni@modena.example was left unbilled.",
            ),
        ],
    )
    return item


# Writing recommendations --------------------------------------------------------------------


def test_a_sentence_without_an_action_is_refused_on_write(alice: User) -> None:
    with pytest.raises(Exception, match="Recommendations must be a list"):
        ActionLog.objects.open_item(
            user=alice,
            event_type=ActionLog.EventType.UNCATEGORISED,
            key="1",
            description="x",
            recommendations=["Give it a category in Outlook."],  # type: ignore[list-item]
        )
    assert not ActionLog.objects.exists()


def test_an_action_nobody_registered_for_the_item_type_is_refused(alice: User) -> None:
    with pytest.raises(Exception, match="'keep' is not a way to settle a uncategorised item"):
        ActionLog.objects.open_item(
            user=alice,
            event_type=ActionLog.EventType.UNCATEGORISED,
            key="1",
            description="x",
            recommendations=[recommendation(id="k", label="Keep", action="keep", confidence=1)],
        )


def test_recommendations_are_stored_best_first(alice: User) -> None:
    item = coffee_item(alice)

    assert [r["id"] for r in item.recommendations] == ["mark-personal", "set-category-modena"]


def test_the_migration_turns_existing_sentences_into_actions(alice: User) -> None:
    from importlib import import_module

    from django.apps import apps

    migration = import_module("auditing.migrations.0008_recommendations_as_actions")
    item = coffee_item(alice)
    ActionLog.objects.filter(pk=item.pk).update(
        event_type=ActionLog.EventType.UPLOAD_FAILED,
        recommendations=["Retry with 'Upload to OneDrive' on the timesheet."],
    )

    migration.forwards(apps, None)

    item.refresh_from_db()
    [retry] = item.recommendations
    assert (retry["action"], retry["reason"]) == (
        "retry_upload",
        "Retry with 'Upload to OneDrive' on the timesheet.",
    )


# The REST API --------------------------------------------------------------------------------


def test_the_api_lists_structured_recommendations_with_what_is_at_stake(
    alice: User, alice_api: APIClient
) -> None:
    item = coffee_item(alice)
    CustomerSettings.objects.create(
        user=alice, customer="Modena", display_name="Modena", currency="EUR", hourly_rate=100
    )

    response = alice_api.get(api("action-log-list"))

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == item.pk
    top = row["recommendations"][0]
    assert (top["id"], top["action"], top["preselected"]) == (
        "mark-personal",
        "mark_personal",
        True,
    )
    assert set(top) == {"id", "label", "action", "params", "confidence", "reason", "preselected"}
    assert row["recommendations"][1]["preselected"] is False
    # Its top recommendation names no customer: 1.5 h wait on the decision, unpriced.
    assert row["at_stake"] == {
        "hours": "1.50",
        "amount": None,
        "currency": "",
        "customer": None,
    }


def test_applying_through_the_api_closes_the_item_under_the_requests_correlation_id(
    alice: User, alice_api: APIClient
) -> None:
    item = coffee_item(alice)

    response = alice_api.post(
        api("action-log-apply", item.pk),
        {"recommendation": "mark-personal"},
        format="json",
        HTTP_X_REQUEST_ID="apply-1",
    )

    assert response.status_code == 200, response.content
    assert response.json()["state"] == "resolved"
    audit = AuditLog.objects.get(operation="apply")
    assert (audit.status, audit.correlation_id) == ("success", "apply-1")
    assert AuditLog.objects.filter(operation="resolved", correlation_id="apply-1").exists()
    assert CategoryDecision.objects.get(user=alice).label == "personal"


def test_applying_an_unknown_recommendation_is_a_400_that_changes_nothing(
    alice: User, alice_api: APIClient
) -> None:
    item = coffee_item(alice)

    response = alice_api.post(
        api("action-log-apply", item.pk), {"recommendation": "nope"}, format="json"
    )

    assert response.status_code == 400
    assert "offers no recommendation 'nope'" in response.json()["recommendation"][0]
    item.refresh_from_db()
    assert item.state == "open"
    assert not AuditLog.objects.filter(operation="apply").exists()


def test_applying_to_a_closed_item_is_a_409(alice: User, alice_api: APIClient) -> None:
    item = coffee_item(alice)
    item.close(by=alice)

    response = alice_api.post(
        api("action-log-apply", item.pk), {"recommendation": "mark-personal"}, format="json"
    )

    assert response.status_code == 409
    assert "already resolved" in response.json()["detail"]


def test_applying_to_an_item_that_changed_since_it_was_seen_is_a_409(
    alice: User, alice_api: APIClient
) -> None:
    item = coffee_item(alice)
    seen = alice_api.get(api("action-log-detail", item.pk)).json()["updated_at"]
    alice_api.post(
        api("action-log-dismiss", item.pk), {"recommendation": "set-category-modena"}, format="json"
    )

    response = alice_api.post(
        api("action-log-apply", item.pk),
        {"recommendation": "mark-personal", "item_updated_at": seen},
        format="json",
    )

    assert response.status_code == 409
    assert "changed since you looked" in response.json()["detail"]


def test_dismissing_one_recommendation_keeps_the_item_open_without_it(
    alice: User, alice_api: APIClient
) -> None:
    item = coffee_item(alice)

    response = alice_api.post(
        api("action-log-dismiss", item.pk), {"recommendation": "set-category-modena"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "open"
    assert [r["id"] for r in body["recommendations"]] == ["mark-personal"]
    assert CategoryDecision.objects.get(decision="dismissed").label == "Modena - billable"


def test_another_users_item_cannot_be_applied(alice: User, bob: User, alice_api: APIClient) -> None:
    item = coffee_item(bob)

    response = alice_api.post(
        api("action-log-apply", item.pk), {"recommendation": "mark-personal"}, format="json"
    )

    assert response.status_code == 404
    item.refresh_from_db()
    assert item.state == "open"


# The admin -----------------------------------------------------------------------------------


def test_the_item_page_shows_its_evidence_in_the_users_zone_and_its_recommendations_as_buttons(
    alice: User, alice_client: Client
) -> None:
    item = coffee_item(alice)

    page = alice_client.get(reverse("admin:auditing_actionlog_change", args=[item.pk]))

    assert page.status_code == 200
    text = page.content.decode()
    assert "Start (Europe/London)" in text
    assert "Thu 08 May 2025 14:00" in text  # 13:00 UTC is 14:00 BST
    assert "gianni@modena.example" in text
    assert "At stake: <strong>1.50 hrs</strong>" in text
    apply_url = reverse(
        "admin:auditing_actionlog_recommendation", args=[item.pk, "mark-personal", "apply"]
    )
    assert f'action="{apply_url}"' in text
    assert 'value="Not billable: leave it off the invoice"' in text
    assert "<textarea" not in text


def test_a_recommendation_button_applies_it_on_post_only(alice: User, alice_client: Client) -> None:
    item = coffee_item(alice)
    url = reverse(
        "admin:auditing_actionlog_recommendation", args=[item.pk, "mark-personal", "apply"]
    )

    assert alice_client.get(url).status_code == 405
    response = alice_client.post(url)

    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.state, item.resolution) == ("resolved", "not billable")
    assert AuditLog.objects.get(operation="apply").user == alice


def test_nobody_adds_action_items_by_hand(admin_client: Client) -> None:
    assert admin_client.get(reverse("admin:auditing_actionlog_add")).status_code == 403


def test_nobody_deletes_an_action_item_they_can_only_settle(
    alice: User, admin_client: Client
) -> None:
    item = coffee_item(alice)

    page = admin_client.post(reverse("admin:auditing_actionlog_delete", args=[item.pk]))

    assert page.status_code == 403
    assert ActionLog.objects.filter(pk=item.pk, state="open").exists()


def test_the_list_applies_only_the_confident_top_recommendations_unless_confirmed(
    alice: User, alice_client: Client
) -> None:
    sure = coffee_item(alice, confidence=0.95, subject="Sure")
    unsure = coffee_item(alice, confidence=0.5, subject="Unsure")
    changelist = reverse("admin:auditing_actionlog_changelist")
    selected = {"action": "apply_top_recommendation", "_selected_action": [sure.pk, unsure.pk]}

    confirm = alice_client.post(changelist, selected)

    assert confirm.status_code == 200
    assert "below 80% confidence" in confirm.content.decode()
    assert ActionLog.objects.open().count() == 2

    alice_client.post(changelist, {**selected, "confirm": "confident"})

    sure.refresh_from_db()
    unsure.refresh_from_db()
    assert (sure.state, unsure.state) == ("resolved", "open")

    alice_client.post(changelist, {**selected, "confirm": "all"})

    unsure.refresh_from_db()
    assert unsure.state == "resolved"


def test_the_list_shows_the_amount_at_stake(alice: User, alice_client: Client) -> None:
    coffee_item(alice)
    Appointment.objects.update(customer="Modena", billing_type="billable")
    CustomerSettings.objects.create(
        user=alice, customer="Modena", display_name="Modena", currency="EUR", hourly_rate=100
    )

    page = alice_client.get(reverse("admin:auditing_actionlog_changelist"))

    assert "€150.00 (1.50 hrs, Modena)" in page.content.decode()


def test_the_dashboard_shows_the_money_waiting_on_decisions(
    alice: User, alice_client: Client
) -> None:
    from auditing.attention import open_items_at_stake

    coffee_item(alice)
    Appointment.objects.update(customer="Modena", billing_type="billable")
    CustomerSettings.objects.create(
        user=alice, customer="Modena", display_name="Modena", currency="EUR", hourly_rate=100
    )

    page = alice_client.get(reverse("admin:index"))

    assert open_items_at_stake(user=alice) == {"EUR": Decimal("150.00")}
    assert "Waiting on your decisions: <strong>€150.00</strong> unbilled." in (
        page.content.decode()
    )


def test_the_home_page_reads_the_terms_once_for_its_prices_and_the_money_at_stake(
    alice: User, alice_client: Client
) -> None:
    """The month, the unbilled and the amount at stake are priced by the same customer
    settings and default rate: the page reads them once, and prices the stake as it would
    alone."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from auditing.attention import open_items_at_stake
    from timesheets.models import BillingProfile
    from timesheets.selectors import BillingTerms, billing_terms_shared

    coffee_item(alice)
    Appointment.objects.update(customer="Modena", billing_type="billable", is_archived=True)
    BillingProfile.objects.create(user=alice, currency="GBP", hourly_rate=80)
    CustomerSettings.objects.create(user=alice, customer="Modena", display_name="Modena")

    with CaptureQueriesContext(connections["default"]) as queries:
        page = alice_client.get(reverse("admin:index"))

    tables = [query["sql"].split(" FROM ")[1].split()[0] for query in queries.captured_queries]
    assert tables.count('"timesheet_customer_settings"') == 1
    assert tables.count('"timesheet_billing_profiles"') == 1
    # Modena has no rate of its own: Alice's default prices its 1.50 hours.
    assert "Waiting on your decisions: <strong>£120.00</strong> unbilled." in (
        page.content.decode()
    )
    alone = open_items_at_stake(user=alice)
    with billing_terms_shared():
        BillingTerms.of(alice)
        with CaptureQueriesContext(connections["default"]) as shared:
            assert open_items_at_stake(user=alice) == alone == {"GBP": Decimal("120.00")}
    assert not [query for query in shared.captured_queries if "timesheet_" in query["sql"]]


# The command ---------------------------------------------------------------------------------


def test_the_command_lists_open_items_with_their_top_recommendation(alice: User) -> None:
    coffee_item(alice)
    out = StringIO()

    call_command("attention", alice.email, stdout=out)

    text = out.getvalue()
    assert "[Possibly billable meeting] “Coffee” has no category" in text
    assert "✓ Not billable: leave it off the invoice (90%)" in text
    assert text.strip().endswith("1 open item(s).")


def test_the_command_applies_the_confident_ones_and_a_dry_run_changes_nothing(
    alice: User,
) -> None:
    coffee_item(alice, confidence=0.95, subject="Sure")
    coffee_item(alice, confidence=0.5, subject="Unsure")
    out = StringIO()

    call_command("attention", alice.email, "--apply-confident", "--dry-run", stdout=out)

    assert "would apply" in out.getvalue() and "nothing changed" in out.getvalue()
    assert ActionLog.objects.open().count() == 2

    call_command(
        "attention", alice.email, "--apply-confident", "--min-confidence", "0.9", stdout=out
    )

    assert list(ActionLog.objects.open().values_list("description", flat=True)) == [
        "“Unsure” has no category but people from modena.example"
    ]
    assert "1 applied, 0 failed, 1 left for you to decide." in out.getvalue()


def test_the_command_refuses_a_confidence_outside_zero_to_one(alice: User) -> None:
    with pytest.raises(CommandError, match=r"--min-confidence must be from 0 to 1, not 1\.5"):
        call_command("attention", alice.email, "--apply-confident", "--min-confidence", "1.5")


def test_dismissing_a_whole_item_in_the_admin_turns_down_its_suggestions(
    alice: User, alice_client: Client
) -> None:
    item = coffee_item(alice)

    alice_client.post(
        reverse("admin:auditing_actionlog_changelist"),
        {"action": "dismiss", "_selected_action": [item.pk]},
    )

    item.refresh_from_db()
    assert item.state == "dismissed"
    assert list(CategoryDecision.objects.values_list("label", "decision")) == [
        ("Modena - billable", "dismissed")
    ]
