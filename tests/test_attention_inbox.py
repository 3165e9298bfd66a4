"""The attention inbox end to end against the fake Graph: meetings that bill no customer get an
item with a category learned from the consultant's own history; one click sets it here and on
the source event in Outlook, and the next archive run agrees."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from accounts.models import User
from archiving.attention import category_choice_id
from archiving.models import ArchiveConfiguration, CategoryDecision
from auditing.attention import (
    ApplyFailed,
    recommendation_apply,
    recommendation_dismiss,
)
from auditing.models import ActionLog, AuditLog
from calendars.models import Appointment, Category
from tests.archive_helpers import add_event, archive_copies, run_archive
from tests.conftest import connect_microsoft, logged_in
from tests.factories import ArchiveConfigurationFactory
from tests.fakes.microsoft import FakeMicrosoft

pytestmark = pytest.mark.django_db(databases=["default", "web"])

MODENA = "Modena - billable"
FIRST_WEEK = (date(2025, 5, 5), date(2025, 5, 9))
THURSDAY = date(2025, 5, 8)


def modena_guest(name: str = "gianni") -> list[dict]:
    return [{"emailAddress": {"address": f"{name}@modena.example"}, "type": "required"}]


@pytest.fixture
def config(connected_alice: User) -> ArchiveConfiguration:
    return ArchiveConfigurationFactory(user=connected_alice)


def modena_history(fake: FakeMicrosoft, user: User, config: ArchiveConfiguration) -> None:
    """Three categorised meetings with people at modena.example, archived."""
    for day in ("05", "06", "07"):
        add_event(
            fake,
            user,
            "Steering group",
            f"2025-05-{day}T10:00",
            categories=[MODENA],
            attendees=modena_guest(),
        )
    run_archive(config, *FIRST_WEEK)


def possibly_billable(user: User) -> ActionLog:
    return ActionLog.objects.get(user=user, event_type="possibly_billable", state="open")


def test_a_customer_meeting_with_no_category_opens_a_possibly_billable_item_with_its_reason(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    modena_history(fake_alice, connected_alice, config)
    add_event(
        fake_alice,
        connected_alice,
        "Budget review",
        "2025-05-08T14:00",
        categories=[],
        attendees=modena_guest("paola"),
    )

    run_archive(config, THURSDAY)

    item = possibly_billable(connected_alice)
    assert "people from modena.example: possibly billable" in item.description
    top = item.top_recommendation
    assert top["action"] == "set_category"
    assert top["params"] == {"category": MODENA}
    assert (
        "3 of your 3 meetings with people at modena.example were 'Modena - billable'"
        in (top["reason"])
    )
    assert [r["action"] for r in item.recommendations][-1] == "mark_personal"


def test_an_internal_meeting_with_no_category_and_no_evidence_opens_no_item(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    modena_history(fake_alice, connected_alice, config)
    add_event(
        fake_alice,
        connected_alice,
        "Dentist",
        "2025-05-08T16:00",
        categories=[],
        attendees=[{"emailAddress": {"address": "carol@example.com"}, "type": "required"}],
    )

    run_archive(config, THURSDAY)

    assert not ActionLog.objects.filter(event_type__in=["possibly_billable", "uncategorised"])


def test_a_meeting_organised_by_an_outsider_counts_as_outside_people(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    add_event(
        fake_alice,
        connected_alice,
        "Intro call",
        "2025-05-08T09:00",
        categories=[],
        organizer={"name": "Gianni", "address": "gianni@modena.example"},
    )

    run_archive(config, THURSDAY)

    item = possibly_billable(connected_alice)
    assert item.details["people"] == ["gianni@modena.example"]
    # No history links modena.example to a customer: only "not billable" is offered.
    assert [r["action"] for r in item.recommendations] == ["mark_personal"]


def test_applying_the_category_writes_it_to_outlook_keeping_the_others_and_the_next_run_agrees(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    modena_history(fake_alice, connected_alice, config)
    source = add_event(
        fake_alice,
        connected_alice,
        "Budget review",
        "2025-05-08T14:00",
        categories=["Online"],
        attendees=modena_guest("paola"),
    )
    run_archive(config, THURSDAY)
    item = ActionLog.objects.get(event_type="uncategorised", state="open")

    done = recommendation_apply(
        item=item, recommendation_id=category_choice_id(MODENA), by=connected_alice
    )

    assert done == "Billed to Modena (Modena - billable) and in Outlook."
    [event] = [e for e in fake_alice.events(connected_alice.email) if e["id"] == source["id"]]
    assert event["categories"] == ["Online", MODENA]
    [patch] = [r for r in fake_alice.graph_requests() if r.method == "PATCH"]
    assert patch.headers["If-Match"].startswith('W/"')
    item.refresh_from_db()
    assert (item.state, item.resolution) == ("resolved", done)
    appointment = Appointment.objects.get(ms_event_id=source["id"])
    assert (appointment.customer, appointment.billing_type) == ("Modena", "billable")

    result = run_archive(config, THURSDAY)

    assert result.status == "success"
    assert not ActionLog.objects.filter(
        event_type__in=["possibly_billable", "uncategorised"], state="open"
    )
    appointment.refresh_from_db()
    assert appointment.customer == "Modena"
    assert Appointment.objects.filter(pk=appointment.pk).billable().exists()
    [copy] = [
        c for c in archive_copies(fake_alice, connected_alice) if c["subject"] == "Budget review"
    ]
    assert copy["categories"] == ["Online", MODENA]


def test_a_412_reads_the_event_again_and_decides_again(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    modena_history(fake_alice, connected_alice, config)
    source = add_event(
        fake_alice, connected_alice, "Budget review", "2025-05-08T14:00",
        categories=[], attendees=modena_guest("paola"),
    )  # fmt: skip
    run_archive(config, THURSDAY)
    fake_alice.inject(status=412, method="PATCH", path_contains="/events/")

    recommendation_apply(
        item=possibly_billable(connected_alice),
        recommendation_id=category_choice_id(MODENA),
        by=connected_alice,
    )

    patches = [r for r in fake_alice.graph_requests() if r.method == "PATCH"]
    assert len(patches) == 2
    gets = [r for r in fake_alice.graph_requests() if r.method == "GET" and source["id"] in r.path]
    assert len(gets) == 2
    [event] = [e for e in fake_alice.events(connected_alice.email) if e["id"] == source["id"]]
    assert event["categories"] == [MODENA]


def test_a_category_someone_set_in_outlook_meanwhile_stands(
    alice_graph, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    source = add_event(
        fake_alice, connected_alice, "Budget review", "2025-05-08T14:00", categories=[]
    )
    seen: list[list[str]] = []

    def decide(current: list[str]) -> list[str] | None:
        seen.append(current)
        if len(seen) == 1:  # a colleague categorises it in Outlook right now
            fake_alice.edit_event(
                connected_alice.email, source["id"], categories=["Acme - billable"]
            )
            return [*current, MODENA]
        return None

    written, event = alice_graph.event_categories_update(source["id"], decide)

    assert not written
    assert seen == [[], ["Acme - billable"]]
    assert event["categories"] == ["Acme - billable"]


def test_a_calendar_the_user_may_only_read_is_categorised_here_only_and_runs_keep_it(
    fake_microsoft: FakeMicrosoft, alice: User
) -> None:
    fake_microsoft.add_user(alice.email, name=alice.name)
    fake_microsoft.add_user("boss@example.com", name="Boss")
    fake_microsoft.share_calendar("boss@example.com", alice.email, role="read")
    connected = connect_microsoft(fake_microsoft, alice)
    config = ArchiveConfigurationFactory(
        user=connected, source_calendar_uri="msgraph://boss@example.com/calendars/Calendar"
    )
    for day in ("05", "06", "07"):
        fake_microsoft.add_event(
            "boss@example.com", subject="Steering group", categories=[MODENA],
            start={"dateTime": f"2025-05-{day}T10:00:00", "timeZone": "Europe/London"},
            end={"dateTime": f"2025-05-{day}T11:00:00", "timeZone": "Europe/London"},
            attendees=modena_guest(),
        )  # fmt: skip
    source = fake_microsoft.add_event(
        "boss@example.com", subject="Budget review", categories=[],
        start={"dateTime": "2025-05-08T14:00:00", "timeZone": "Europe/London"},
        end={"dateTime": "2025-05-08T15:00:00", "timeZone": "Europe/London"},
        attendees=modena_guest("paola"),
    )  # fmt: skip
    run_archive(config, date(2025, 5, 5), THURSDAY)

    done = recommendation_apply(
        item=possibly_billable(connected),
        recommendation_id=category_choice_id(MODENA),
        by=connected,
    )

    assert "here only: you may only read that calendar in Outlook" in done
    assert not [r for r in fake_microsoft.graph_requests() if r.method == "PATCH"]
    [event] = [e for e in fake_microsoft.events("boss@example.com") if e["id"] == source["id"]]
    assert event["categories"] == []
    run_archive(config, THURSDAY)
    appointment = Appointment.objects.get(ms_event_id=source["id"])
    assert (appointment.customer, appointment.categories) == ("Modena", [])
    assert not ActionLog.objects.filter(event_type="possibly_billable", state="open")


def test_outlook_refusing_the_write_leaves_the_item_open_with_the_reason(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    modena_history(fake_alice, connected_alice, config)
    add_event(
        fake_alice, connected_alice, "Budget review", "2025-05-08T14:00",
        categories=[], attendees=modena_guest("paola"),
    )  # fmt: skip
    run_archive(config, THURSDAY)
    item = possibly_billable(connected_alice)
    fake_alice.inject(status=400, method="PATCH", path_contains="/events/")

    with pytest.raises(ApplyFailed, match="400"):
        recommendation_apply(
            item=item, recommendation_id=category_choice_id(MODENA), by=connected_alice
        )

    item.refresh_from_db()
    assert item.state == "open"
    assert "400" in item.details["last_error"]
    audit = AuditLog.objects.get(action_type="action_log", operation="apply")
    assert audit.status == "failure"
    assert Appointment.objects.get(subject="Budget review").customer is None


def test_one_users_history_never_informs_anothers_suggestions(
    fake_microsoft: FakeMicrosoft, alice: User, bob: User
) -> None:
    for user in (alice, bob):
        fake_microsoft.add_user(user.email, name=user.name)
    alice_c, bob_c = (
        connect_microsoft(fake_microsoft, alice),
        connect_microsoft(fake_microsoft, bob),
    )
    bob_config = ArchiveConfigurationFactory(user=bob_c)
    alice_config = ArchiveConfigurationFactory(user=alice_c)
    modena_history(fake_microsoft, bob_c, bob_config)
    for user, config in ((bob_c, bob_config), (alice_c, alice_config)):
        add_event(
            fake_microsoft, user, "Budget review", "2025-05-08T14:00",
            categories=[], attendees=modena_guest("paola"),
        )  # fmt: skip
        run_archive(config, THURSDAY)

    bob_item, alice_item = possibly_billable(bob_c), possibly_billable(alice_c)

    assert bob_item.top_recommendation["params"] == {"category": MODENA}
    assert [r["action"] for r in alice_item.recommendations] == ["mark_personal"]


def test_a_dismissed_suggestion_is_never_offered_again_for_that_appointment(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    modena_history(fake_alice, connected_alice, config)
    add_event(
        fake_alice, connected_alice, "Budget review", "2025-05-08T14:00",
        categories=[], attendees=modena_guest("paola"),
    )  # fmt: skip
    run_archive(config, THURSDAY)
    item = possibly_billable(connected_alice)

    recommendation_dismiss(
        item=item, recommendation_id=category_choice_id(MODENA), by=connected_alice
    )
    run_archive(config, THURSDAY)

    item.refresh_from_db()
    assert item.state == "open"
    assert [r["action"] for r in item.recommendations] == ["mark_personal"]
    assert CategoryDecision.objects.get(decision="dismissed").label == MODENA


def test_marking_a_meeting_not_billable_closes_it_for_good_and_teaches_the_model(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    add_event(
        fake_alice, connected_alice, "Coffee with Gianni", "2025-05-07T08:00",
        categories=[], attendees=modena_guest(),
    )  # fmt: skip
    run_archive(config, date(2025, 5, 7))
    recommendation_apply(
        item=possibly_billable(connected_alice),
        recommendation_id="mark-personal",
        by=connected_alice,
    )
    add_event(
        fake_alice, connected_alice, "Coffee with Gianni", "2025-05-08T08:00",
        categories=[], attendees=modena_guest(),
    )  # fmt: skip

    run_archive(config, date(2025, 5, 7), THURSDAY)

    [item] = ActionLog.objects.filter(event_type="possibly_billable", state="open")
    assert item.top_recommendation["action"] == "mark_personal"
    assert "left unbilled" in item.top_recommendation["reason"]
    assert ActionLog.objects.filter(event_type="possibly_billable").count() == 2


def test_a_day_already_invoiced_stays_locked_and_the_meeting_rolls_into_the_next_timesheet(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    from timesheets.models import Timesheet

    modena_history(fake_alice, connected_alice, config)
    add_event(
        fake_alice, connected_alice, "Budget review", "2025-05-08T14:00",
        categories=[], attendees=modena_guest("paola"),
    )  # fmt: skip
    run_archive(config, THURSDAY)
    issued = Timesheet.objects.create(
        user=connected_alice, customer="Modena", start_date=date(2025, 5, 1),
        end_date=date(2025, 5, 31),
    )  # fmt: skip

    done = recommendation_apply(
        item=possibly_billable(connected_alice),
        recommendation_id=category_choice_id(MODENA),
        by=connected_alice,
    )

    assert f"Timesheet {issued} is issued and stays as it is" in done
    assert "billed as a late item on Modena's next timesheet" in done
    appointment = Appointment.objects.get(subject="Budget review")
    assert (appointment.customer, appointment.timesheet_id) == ("Modena", None)


def unsuggested_meeting(fake: FakeMicrosoft, user: User, config: ArchiveConfiguration) -> dict:
    """A meeting with people from outside and no history to suggest a category from."""
    source = add_event(
        fake, user, "Budget review", "2025-05-08T14:00", categories=[], attendees=modena_guest()
    )
    run_archive(config, THURSDAY)
    return source


def test_an_item_with_no_suggestion_lets_the_owner_pick_any_of_their_categories(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User, bob: User
) -> None:
    source = unsuggested_meeting(fake_alice, connected_alice, config)
    item = possibly_billable(connected_alice)
    assert [r["action"] for r in item.recommendations] == ["mark_personal"]
    for name in ("Acme - billable", "Zeta - billable", "Online"):
        Category.objects.create(user=connected_alice, name=name)
    Category.objects.create(user=bob, name="Bobco - billable")
    client = logged_in(connected_alice)
    page = client.get(reverse("admin:auditing_actionlog_change", args=[item.pk])).content.decode()
    # The owner's billing categories only: not "Online", never Bob's.
    assert '<option value="Acme - billable">' in page and "Zeta - billable" in page
    assert "Bobco" not in page and '<option value="Online">' not in page

    answer = client.post(
        reverse("admin:auditing_actionlog_free_choice", args=[item.pk, "set_category"]),
        {"value": "Zeta - billable"},
    )

    assert answer.status_code == 302
    item.refresh_from_db()
    assert (item.state, item.resolution) == (
        "resolved",
        "Billed to Zeta (Zeta - billable) and in Outlook.",
    )
    [event] = [e for e in fake_alice.events(connected_alice.email) if e["id"] == source["id"]]
    assert event["categories"] == ["Zeta - billable"]
    appointment = Appointment.objects.get(ms_event_id=source["id"])
    assert (appointment.customer, appointment.billing_type) == ("Zeta", "billable")
    assert AuditLog.objects.filter(
        action_type="action_log", operation="apply", status="success"
    ).exists()


def test_another_users_category_is_refused_and_changes_nothing(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User, bob: User
) -> None:
    source = unsuggested_meeting(fake_alice, connected_alice, config)
    item = possibly_billable(connected_alice)
    Category.objects.create(user=connected_alice, name="Acme - billable")
    Category.objects.create(user=bob, name="Bobco - billable")

    answer = logged_in(connected_alice).post(
        reverse("admin:auditing_actionlog_free_choice", args=[item.pk, "set_category"]),
        {"value": "Bobco - billable"},
        follow=True,
    )

    assert "is not one of the choices this item offers" in answer.content.decode()
    item.refresh_from_db()
    assert item.state == "open"
    [event] = [e for e in fake_alice.events(connected_alice.email) if e["id"] == source["id"]]
    assert event["categories"] == []
    assert Appointment.objects.get(ms_event_id=source["id"]).customer is None
    assert not [r for r in fake_alice.graph_requests() if r.method == "PATCH"]
