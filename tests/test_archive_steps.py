"""The archive run's steps, each on its own over the run's shared record: no Graph is needed
to place appointments among overlaps or to word the run's audit row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import User
from archiving.graph_events import SourceEvent
from archiving.phrases import DateRange
from archiving.run.overlaps import overlaps_resolve
from archiving.run.record import ArchiveCounts, EventWork, Run
from archiving.run.report import run_details, run_message
from auditing.models import ActionLog
from calendars.categories import billing_from_categories
from calendars.models import Appointment
from foundations.graph import GraphClient
from tests.factories import AppointmentFactory, ArchiveConfigurationFactory

pytestmark = pytest.mark.django_db(databases=["default", "web"])

NINE = datetime(2025, 5, 8, 9, 0, tzinfo=UTC)


def work(user: User, subject: str, show_as: str, minutes: int = 60) -> EventWork:
    appointment = AppointmentFactory(
        user=user, subject=subject, show_as=show_as, end_time=NINE + timedelta(minutes=minutes)
    )
    source = SourceEvent(
        graph={"id": f"event-{appointment.pk}", "subject": subject, "showAs": show_as},
        start=appointment.start_time,
        end=appointment.end_time,
        categories=["Acme - billable"],
    )
    return EventWork(source, appointment, billing_from_categories(["Acme - billable"]))


def offline_run(user: User) -> Run:
    configuration = ArchiveConfigurationFactory(user=user)
    # The overlap step never speaks to Graph: a client that cannot connect proves it.
    client = GraphClient(base_url="https://graph.invalid", token=lambda refresh: "none")
    return Run(configuration=configuration, client=client, lock_owner="test")


def test_the_overlap_step_alone_keeps_the_busy_booking_and_drops_the_tentative_one(
    alice: User,
) -> None:
    busy, tentative = work(alice, "Acme review", "busy"), work(alice, "Maybe lunch", "tentative")

    overlaps_resolve(offline_run(alice), [busy, tentative])

    states = dict(Appointment.objects.values_list("subject", "overlap_state"))
    assert states == {"Acme review": "winner", "Maybe lunch": "loser"}


def test_the_overlap_step_alone_opens_one_item_for_two_equal_bookings(alice: User) -> None:
    run = offline_run(alice)

    overlaps_resolve(run, [work(alice, "Acme review", "busy"), work(alice, "Globex", "busy")])

    assert run.counts.conflicts == 1
    item = ActionLog.objects.get(event_type=ActionLog.EventType.OVERLAP)
    assert item.description == "2 overlapping appointments on Thu 08 May 2025 need a decision"


def test_the_report_step_words_the_counts_and_keeps_the_first_errors() -> None:
    counts = ArchiveCounts(fetched=3, created=2, copied=2, errors=1)
    may = DateRange(datetime(2025, 5, 8).date(), datetime(2025, 5, 8).date())

    message = run_message(counts, may, dry_run=True)

    assert message.startswith("Dry run: ")
    assert "3 fetched, 2 new, 0 updated, 2 copied" in message
    assert run_details(counts, ["'x': failed"] * 60)["errors"] == ["'x': failed"] * 50
