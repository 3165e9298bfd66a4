"""The admin home page: grouped index, this month's hours, unbilled, attention, archive health."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from archiving.models import ArchiveConfiguration, ArchiveRun, JobConfiguration
from auditing.models import ActionLog, AuditLog
from calendars.models import Appointment
from tests.factories import AppointmentFactory, ArchiveConfigurationFactory
from timesheets.models import CustomerSettings
from timesheets.selectors import period_customer_hours
from timesheets.services import timesheet_generate

pytestmark = pytest.mark.django_db(databases=["default", "web"])

MAY = "?month=2025-05"


@pytest.fixture(autouse=True)
def media_in_tmp(settings: object, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def work(user: User, day: int, minutes: int = 60, **fields: object) -> Appointment:
    fields.setdefault("customer", "Acme")
    fields.setdefault("billing_type", "billable")
    fields.setdefault("is_archived", True)
    start = datetime(2025, 5, day, 8, 0, tzinfo=UTC)
    return AppointmentFactory(
        user=user, start_time=start, end_time=start + timedelta(minutes=minutes), **fields
    )


@pytest.fixture
def may(alice: User, bob: User) -> None:
    work(alice, 8, 90)
    work(alice, 9, 120)
    work(alice, 9, 60, is_travel=True)
    work(alice, 12, 60, billing_type="non-billable")
    work(alice, 13, 45, show_as="free")
    work(alice, 20, 30, customer="Globex")
    work(bob, 8, 600, customer="Initech")


def section_names(client: Client) -> list[str]:
    return [app["name"] for app in client.get(reverse("admin:index")).context["app_list"]]


def test_the_index_groups_models_by_what_people_do(alice_client: Client) -> None:
    assert section_names(alice_client) == [
        "Calendar",
        "Billing",
        "Archiving",
        "Attention",
        "Settings",
    ]


def test_framework_models_are_shown_to_superusers_only_under_system(
    admin_client: Client, alice_client: Client
) -> None:
    assert section_names(admin_client)[-1] == "System"
    system = admin_client.get(reverse("admin:index")).context["app_list"][-1]
    names = {model["object_name"] for model in system["models"]}
    assert {"Site", "SocialToken", "EmailAddress", "Group", "Schedule"} <= names
    body = alice_client.get(reverse("admin:index")).content.decode()
    assert "Social application tokens" not in body and "Sites" not in body


def test_every_model_of_ours_has_a_task_group_not_system(admin_client: Client) -> None:
    ours = {"accounts", "calendars", "archiving", "timesheets", "auditing"}
    system = admin_client.get(reverse("admin:index")).context["app_list"][-1]
    assert system["name"] == "System"
    assert not [m for m in system["models"] if m["model"]._meta.app_label in ours]


def test_the_home_page_shows_this_months_hours_per_customer(
    alice_client: Client, may: None
) -> None:
    body = alice_client.get(reverse("admin:index") + MAY).content.decode()
    assert "Hours and amounts in May 2025" in body
    assert "<svg" in body and "Acme" in body and "Globex" in body
    table = alice_client.get(reverse("admin:index") + MAY).context["hours"]
    acme = next(row for row in table if row["customer"] == "Acme")
    assert (acme["billable"], acme["non_billable"], acme["travel"]) == (
        "3.50 hrs",
        "1.00 hrs",
        "1.00 hrs",
    )


def test_the_home_page_hours_match_the_timesheet_for_the_period(alice: User, may: None) -> None:
    CustomerSettings.objects.create(
        user=alice, customer="Acme", display_name="Acme", rounding_interval=60, rounding_mode="up"
    )
    hours = period_customer_hours(user=alice, start=date(2025, 5, 1), end=date(2025, 5, 31))
    acme = next(row for row in hours if row.customer == "Acme")
    issued = timesheet_generate(
        user=alice, customer="Acme", start=date(2025, 5, 1), end=date(2025, 5, 31)
    )
    assert acme.billable_total == issued.data.billable_total
    assert acme.effort == issued.data.effort_total


def test_a_staff_user_sees_only_their_own_figures(bob_client: Client, may: None) -> None:
    response = bob_client.get(reverse("admin:index") + MAY + "&user=1")
    body = response.content.decode()
    assert "Initech" in body and "Acme" not in body
    assert response.context["owners"] is None


def test_a_superuser_chooses_whose_figures(admin_client: Client, alice: User, may: None) -> None:
    mine = admin_client.get(reverse("admin:index") + MAY).content.decode()
    assert "No billable appointments in May 2025" in mine
    hers = admin_client.get(reverse("admin:index") + MAY + f"&user={alice.pk}").content.decode()
    assert "Acme" in hers and "Initech" not in hers


def test_unbilled_hours_link_to_a_prefilled_generate_form(
    alice: User, alice_client: Client, may: None
) -> None:
    timesheet_generate(user=alice, customer="Globex", start=date(2025, 5, 1), end=date(2025, 5, 31))
    unbilled = alice_client.get(reverse("admin:index")).context["unbilled"]
    assert [row["customer"] for row in unbilled] == ["Acme"]
    form = alice_client.get(unbilled[0]["generate_url"]).context["form"]
    assert form["customer"].value() == "Acme"
    assert str(form["start"].value()) == "2025-05-08" and str(form["end"].value()) == "2025-05-12"


def test_attention_counts_open_items_by_type_with_links(alice: User, alice_client: Client) -> None:
    for key in ("monday", "tuesday"):
        ActionLog.objects.create(
            user=alice, event_type="overlap", key=key, state=ActionLog.State.OPEN
        )
    ActionLog.objects.create(
        user=alice,
        event_type="uncategorised",
        state=ActionLog.State.RESOLVED,
        closed_at=timezone.now(),
    )
    attention = alice_client.get(reverse("admin:index")).context["attention"]
    assert [(row["label"], row["count"]) for row in attention] == [("Overlaps to resolve", 2)]
    listed = alice_client.get(attention[0]["url"])
    assert listed.status_code == 200 and listed.context["cl"].result_count == 2


def nightly_at_half_past_eleven(user: User, name: str, zone: str) -> ArchiveConfiguration:
    """An archive configuration with a daily job at 23:30 in `zone`."""
    configuration = ArchiveConfiguration.objects.create(
        user=user,
        name=name,
        source_calendar_uri="msgraph://alice@example.com/calendars/Calendar",
        destination_calendar_uri="msgraph://alice@example.com/calendars/Archive",
        timezone=zone,
    )
    JobConfiguration.objects.create(
        user=user,
        archive_configuration=configuration,
        schedule_type="daily",
        schedule_hour=23,
        schedule_minute=30,
    )
    return configuration


def test_archive_health_shows_the_last_run_and_the_next_run_in_the_configurations_zone(
    alice: User, alice_client: Client
) -> None:
    configuration = nightly_at_half_past_eleven(alice, "Work", "Australia/Sydney")
    AuditLog.objects.create(
        user=alice,
        action_type="archive",
        operation="run",
        resource_type="ArchiveConfiguration",
        resource_id=str(configuration.pk),
        status=AuditLog.Status.SUCCESS,
        message="2 fetched, 2 new",
        correlation_id="abc",
    )
    response = alice_client.get(reverse("admin:index"))
    body = response.content.decode()
    assert "2 fetched, 2 new" in body and "Success" in body
    assert "23:30 (Australia/Sydney)" in body
    assert "?correlation_id=abc" in body


def recorded_run(
    configuration: ArchiveConfiguration, finished: datetime, **fields: object
) -> ArchiveRun:
    """A run as the task function closes it, with the audit row its archive run wrote."""
    fields.setdefault("status", ArchiveRun.Status.SUCCESS)
    run = ArchiveRun.objects.create(
        configuration=configuration,
        start=finished.date(),
        end=finished.date(),
        correlation_id=f"run-{finished:%H%M}",
        started_at=finished - timedelta(minutes=1),
        finished_at=finished,
        **fields,
    )
    AuditLog.objects.create(
        user=configuration.user,
        action_type="archive",
        operation="run",
        resource_type="ArchiveConfiguration",
        resource_id=str(configuration.pk),
        status=AuditLog.Status.SUCCESS,
        message=f"{finished:%Y-%m-%d}: 3 fetched, 3 new",
        correlation_id=run.correlation_id,
    )
    return run


def unaudited_run(
    configuration: ArchiveConfiguration, day: date, correlation_id: str, **fields: object
) -> ArchiveRun:
    """A run of one day with no audit row: still running, or stopped before writing one."""
    return ArchiveRun.objects.create(
        configuration=configuration, start=day, end=day, correlation_id=correlation_id, **fields
    )


def test_archive_health_shows_when_the_recorded_run_finished_and_links_to_it(
    alice: User, alice_client: Client
) -> None:
    configuration = ArchiveConfigurationFactory(user=alice, timezone="Europe/London")
    recorded_run(configuration, datetime(2025, 6, 2, 22, 0, tzinfo=UTC))
    run = recorded_run(configuration, datetime(2025, 6, 3, 22, 5, tzinfo=UTC))

    body = alice_client.get(reverse("admin:index")).content.decode()

    row = body.split('id="dashboard-archive"')[1]
    assert reverse("admin:archiving_archiverun_change", args=[run.pk]) in row
    # 22:05 UTC is 23:05 in London, Alice's time zone.
    assert "3 Jun 2025 23:05" in row and "2025-06-03: 3 fetched, 3 new" in row
    assert "Success" in row and "2 Jun 2025" not in row


def test_each_configuration_shows_its_own_latest_run_however_its_runs_were_recorded(
    alice: User,
) -> None:
    """The latest run of each configuration, picked by the database (DISTINCT ON on
    PostgreSQL, a subquery elsewhere): the one that finished last, with its own audit row's
    message; a run still running is not a last run, and a configuration never run has none."""
    from archiving.run_status import archive_last_runs

    home = ArchiveConfigurationFactory(user=alice, name="Home")
    office = ArchiveConfigurationFactory(user=alice, name="Office")
    recorded_run(home, datetime(2025, 6, 2, 22, 0, tzinfo=UTC))
    office_run = recorded_run(office, datetime(2025, 5, 1, 21, 30, tzinfo=UTC))
    later = recorded_run(home, datetime(2025, 6, 3, 22, 5, tzinfo=UTC))
    unaudited_run(
        home,
        date(2025, 6, 4),
        "still-running",
        status=ArchiveRun.Status.RUNNING,
        started_at=datetime(2025, 6, 4, 22, tzinfo=UTC),
    )
    nothing = ArchiveConfigurationFactory(user=alice, name="Never run")

    last = archive_last_runs(configuration_ids=[home.pk, office.pk, nothing.pk])

    assert last[home.pk].record == later and last[home.pk].message == "2025-06-03: 3 fetched, 3 new"
    assert last[office.pk].record == office_run
    assert last[office.pk].message == "2025-05-01: 3 fetched, 3 new"
    assert nothing.pk not in last


def test_archive_health_shows_a_terminal_run_that_came_after_the_recorded_one(
    alice: User, alice_client: Client
) -> None:
    configuration = ArchiveConfigurationFactory(user=alice)
    recorded_run(configuration, timezone.now() - timedelta(days=2))
    AuditLog.objects.create(
        user=alice,
        action_type="archive",
        operation="run",
        resource_type="ArchiveConfiguration",
        resource_id=str(configuration.pk),
        status=AuditLog.Status.FAILURE,
        message="Microsoft 365 refused the sign-in",
        correlation_id="from-the-terminal",
    )

    body = alice_client.get(reverse("admin:index")).content.decode()

    row = body.split('id="dashboard-archive"')[1]
    assert "Microsoft 365 refused the sign-in" in row and "Failure" in row
    assert "?correlation_id=from-the-terminal" in row


def test_archive_health_says_why_a_recorded_run_without_an_audit_row_stopped(
    alice: User, alice_client: Client
) -> None:
    configuration = ArchiveConfigurationFactory(user=alice)
    unaudited_run(
        configuration,
        date(2025, 6, 3),
        "abandoned-run",
        status=ArchiveRun.Status.ABANDONED,
        finished_at=timezone.now(),
        error="Its worker host:12 stopped: last heartbeat 2025-06-03 22:00:00 UTC.",
    )

    body = alice_client.get(reverse("admin:index")).content.decode()

    row = body.split('id="dashboard-archive"')[1]
    assert "Abandoned (worker stopped)" in row and "Its worker host:12 stopped" in row


def test_microsoft_state_offers_connect_when_missing(
    alice: User, alice_client: Client, settings: object
) -> None:
    settings.MS_CLIENT_ID, settings.MS_CLIENT_SECRET = "client", "secret"
    body = alice_client.get(reverse("admin:index")).content.decode()
    assert "Not connected" in body
    assert reverse("admin:accounts_user_microsoft_connect", args=[alice.pk]) in body


def test_the_home_page_queries_do_not_grow_with_appointments(
    alice: User, alice_client: Client
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connections["default"]) as captured:
            alice_client.get(reverse("admin:index") + MAY)
        return len(captured)

    work(alice, 5)
    few = queries()
    for day in range(1, 29):
        work(alice, day, customer=f"Customer {day % 5}")
    assert queries() == few


def test_the_home_page_queries_do_not_grow_with_archive_configurations_and_their_jobs(
    alice: User, alice_client: Client
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connections["default"]) as captured:
            body = alice_client.get(reverse("admin:index")).content.decode()
        assert body.count("23:30") == ArchiveConfiguration.objects.filter(user=alice).count()
        return len(captured)

    nightly_at_half_past_eleven(alice, "Work", "Europe/London")
    one = queries()
    for name in ("Home", "Club", "Board"):
        nightly_at_half_past_eleven(alice, name, "Europe/London")
    assert queries() == one


def test_recent_actions_show_ones_own_changes_without_reading_anyones_tokens(
    alice: User, bob: User, alice_client: Client
) -> None:
    """The sidebar lists the viewer's own admin changes; its query no longer joins the users
    (whose encrypted Microsoft tokens were decrypted for every entry shown)."""
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    from calendars.models import Category

    kind = ContentType.objects.get_for_model(Category)
    for user, name in ((alice, "Acme - billable"), (bob, "Bob's secret - billable")):
        category = Category.objects.create(user=user, name=name)
        LogEntry.objects.create(
            user=user,
            content_type=kind,
            object_id=str(category.pk),
            object_repr=name,
            action_flag=CHANGE,
        )

    with CaptureQueriesContext(connections["default"]) as queries:
        body = alice_client.get(reverse("admin:index")).content.decode()

    sidebar = body.split('id="recent-actions-module"')[1]
    assert "Acme - billable" in sidebar and "Bob's secret" not in sidebar
    assert "Category" in sidebar  # the entry's kind, from its content type
    (log,) = [q["sql"] for q in queries.captured_queries if '"django_admin_log"' in q["sql"]]
    assert '"users"' not in log
