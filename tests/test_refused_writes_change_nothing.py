"""The `unchanged()` check that refused-write tests rely on notices what a write leaves behind."""

from __future__ import annotations

import pytest
from django_q.models import Schedule

from accounts.models import User
from auditing.services import audit_record
from calendars.models import Location
from foundations.graph import GraphClient
from tests.fakes.microsoft import FakeMicrosoft
from tests.fakes.xero import FakeXero
from tests.unchanged import FAILURE_RECORDS, unchanged


def test_a_new_row_is_noticed(alice: User) -> None:
    with pytest.raises(AssertionError, match=r"calendars\.Location: added \["), unchanged():
        Location.objects.create(user=alice, name="Office")


def test_a_changed_field_is_noticed(alice: User) -> None:
    expected = rf"accounts\.User: changed \['{alice.pk}'\]"
    with pytest.raises(AssertionError, match=expected), unchanged():
        User.objects.filter(pk=alice.pk).update(timezone="Europe/Paris")


def test_an_audit_row_is_noticed(alice: User) -> None:
    with pytest.raises(AssertionError, match=r"auditing\.AuditLog: added"), unchanged():
        audit_record(action_type="api", operation="create", user=alice)


def test_a_calendar_created_in_the_fake_microsoft_365_is_noticed(
    fake_alice: FakeMicrosoft, alice_graph: GraphClient
) -> None:
    expected = r"Microsoft 365: alice@example\.com: changed \['calendars'\]"
    with pytest.raises(AssertionError, match=expected), unchanged(microsoft=fake_alice):
        alice_graph.create_calendar("Archive")


def test_a_last_used_time_is_not_a_change(alice: User) -> None:
    with unchanged():
        User.objects.filter(pk=alice.pk).update(last_login="2025-05-08T09:00:00Z")


def test_a_contact_created_in_the_fake_xero_is_noticed(fake_xero: FakeXero, db: None) -> None:
    org = fake_xero.add_organisation("Demo Company")

    expected = r"Xero: .*changed \['contacts'\]"
    with pytest.raises(AssertionError, match=expected), unchanged(xero=fake_xero):
        fake_xero.add_contact(org, "Acme")


@pytest.mark.django_db(databases=["default", "web"])
def test_a_new_schedule_is_noticed(db: None) -> None:
    with pytest.raises(AssertionError, match=r"django_q\.Schedule: added"), unchanged():
        Schedule.objects.create(name="archive-job-1", func="archiving.tasks.scheduled_archive")


def test_a_failure_record_may_be_allowed(alice: User) -> None:
    with unchanged(allow_new=FAILURE_RECORDS):
        audit_record(action_type="api", operation="create", user=alice, status="failure")
