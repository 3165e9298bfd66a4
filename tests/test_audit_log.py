"""Every state change leaves an AuditLog row; the log itself cannot be edited."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from auditing.models import AuditLog
from auditing.services import audit_operation, audit_record, sanitize
from calendars.models import Location
from tests.unchanged import unchanged

pytestmark = pytest.mark.django_db(databases=["default", "web"])


def test_adding_a_row_in_the_admin_writes_an_audit_row(alice_client: Client, alice: User) -> None:
    alice_client.post(
        reverse("admin:calendars_location_add"),
        {"name": "Client site", "address": "1 High St"},
        HTTP_X_REQUEST_ID="req-add-1",
        HTTP_USER_AGENT="pytest-browser/1.0",
    )

    location = Location.objects.get(name="Client site")
    row = AuditLog.objects.get(action_type="admin", operation="create")
    assert (row.user, row.resource_type, row.resource_id) == (alice, "Location", str(location.pk))
    assert row.status == "success"
    assert row.correlation_id == "req-add-1"
    assert row.ip_address == "127.0.0.1"
    assert row.user_agent == "pytest-browser/1.0"
    assert "Client site" in row.message


def test_changing_a_row_in_the_admin_records_the_changed_fields(
    alice_client: Client, alice: User
) -> None:
    location = Location.objects.create(user=alice, name="Old name")

    alice_client.post(
        reverse("admin:calendars_location_change", args=[location.pk]),
        {"name": "New name", "address": "2 Low St"},
    )

    row = AuditLog.objects.get(action_type="admin", operation="update")
    assert row.resource_id == str(location.pk)
    assert row.details == {"changed_fields": ["Address", "Name"]}


def test_deleting_rows_in_the_admin_writes_one_audit_row_each(
    alice_client: Client, alice: User
) -> None:
    locations = [Location.objects.create(user=alice, name=f"Site {n}") for n in range(3)]

    alice_client.post(
        reverse("admin:calendars_location_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [loc.pk for loc in locations],
            "post": "yes",
        },
    )

    assert not Location.objects.exists()
    rows = AuditLog.objects.filter(action_type="admin", operation="delete")
    assert sorted(rows.values_list("resource_id", flat=True)) == sorted(
        str(loc.pk) for loc in locations
    )


def test_changing_a_third_party_model_in_the_admin_is_audited(admin_client: Client) -> None:
    admin_client.post(reverse("admin:auth_group_add"), {"name": "Accountants"})

    row = AuditLog.objects.get(action_type="admin", operation="create")
    assert row.resource_type == "Group"


@pytest.mark.parametrize("view", ["add", "change", "delete"])
def test_nobody_can_add_change_or_delete_audit_rows(admin_client: Client, view: str) -> None:
    row = audit_record(action_type="test", operation="immutable")
    args = [] if view == "add" else [row.pk]

    with unchanged():
        response = admin_client.post(reverse(f"admin:auditing_auditlog_{view}", args=args), {})

    assert response.status_code == 403
    assert AuditLog.objects.get(pk=row.pk).operation == "immutable"


def test_audit_row_can_be_viewed_read_only(admin_client: Client) -> None:
    row = audit_record(action_type="test", operation="viewable", message="Looked at")

    response = admin_client.get(reverse("admin:auditing_auditlog_change", args=[row.pk]))

    assert response.status_code == 200
    assert "Looked at" in response.text
    assert 'name="_save"' not in response.text


def test_operation_records_duration_status_and_children() -> None:
    with audit_operation(action_type="archive", operation="run") as run:
        with audit_operation(action_type="archive", operation="day") as day:
            day.details = {"events": 3}
        run.status = AuditLog.Status.PARTIAL
        run.message = "1 of 2 days archived"

    parent = AuditLog.objects.get(operation="run")
    child = AuditLog.objects.get(operation="day")
    assert parent.status == "partial"
    assert parent.message == "1 of 2 days archived"
    assert parent.duration_ms is not None and parent.duration_ms >= 0
    assert child.parent_audit == parent
    assert child.correlation_id == parent.correlation_id
    assert child.details == {"events": 3}


def test_a_failed_operation_is_recorded_as_failure_and_the_error_propagates() -> None:
    with pytest.raises(RuntimeError), audit_operation(action_type="upload", operation="onedrive"):
        raise RuntimeError("OneDrive answered 507 Insufficient Storage")

    row = AuditLog.objects.get(operation="onedrive")
    assert row.status == "failure"
    assert row.message == "RuntimeError: OneDrive answered 507 Insufficient Storage"


def test_secrets_are_masked_in_details_request_and_response() -> None:
    audit_record(
        action_type="graph",
        operation="token",
        details={"ms_refresh_token": "r-secret", "nested": [{"Authorization": "Bearer abc"}]},
        request_data={"client_secret": "s3cret", "password": "hunter2", "email": "a@b.c"},
        response_data={"access_token": "tok", "expires_in": 3600},
    )

    row = AuditLog.objects.get(operation="token")
    assert row.details == {
        "ms_refresh_token": "********",
        "nested": [{"Authorization": "********"}],
    }
    assert row.request_data == {
        "client_secret": "********",
        "password": "********",
        "email": "a@b.c",
    }
    assert row.response_data == {"access_token": "********", "expires_in": 3600}


def test_sanitize_makes_dates_and_decimals_json_safe() -> None:
    from datetime import date
    from decimal import Decimal

    assert sanitize({"day": date(2025, 5, 8), "hours": Decimal("1.50")}) == {
        "day": "2025-05-08",
        "hours": "1.50",
    }
