"""Ranking "keep A / keep B / keep them all" for an overlap the rules leave tied: the longest
booking first, unless the user's own past decisions on similar pairs say otherwise."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from accounts.models import User
from archiving.overlap_advice import overlap_recommendations
from auditing.models import ActionLog
from calendars.models import Appointment
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db


def pair(user: User, day: int) -> tuple[Appointment, Appointment]:
    """A short customer call inside a long internal workshop."""

    def at(hour: int, minute: int = 0) -> datetime:
        return datetime(2025, 5, day, hour, minute, tzinfo=UTC)

    internal = AppointmentFactory(
        user=user, subject="Team workshop", customer=None, categories=["Internal"],
        start_time=at(9), end_time=at(12),
    )  # fmt: skip
    customer = AppointmentFactory(
        user=user, subject="Acme call", customer="Acme", categories=["Acme - billable"],
        start_time=at(10), end_time=at(10, 30),
    )  # fmt: skip
    return internal, customer


def decided(user: User, internal: Appointment, customer: Appointment) -> None:
    item, _ = ActionLog.objects.open_item(
        user=user, event_type=ActionLog.EventType.OVERLAP, key=f"{internal.pk},{customer.pk}",
        description="overlap", details={"appointments": [{"id": internal.pk}, {"id": customer.pk}]},
    )  # fmt: skip
    Appointment.objects.filter(pk=customer.pk).update(overlap_state="kept")
    Appointment.objects.filter(pk=internal.pk).update(overlap_state="discarded")
    item.close(by=user)


def test_with_no_history_the_longest_booking_comes_first(alice: User) -> None:
    internal, customer = pair(alice, 20)

    choices = overlap_recommendations(user=alice, members=[internal, customer])

    assert [c["id"] for c in choices] == [f"keep-{internal.pk}", f"keep-{customer.pk}", "keep-all"]
    assert choices[0]["reason"] == "It is the longest booking, usually the real one."


def test_past_decisions_put_the_customer_meeting_first_and_say_so(alice: User, bob: User) -> None:
    for day in range(1, 6):
        decided(alice, *pair(alice, day))
    internal, customer = pair(alice, 20)
    bob_internal, bob_customer = pair(bob, 20)

    choices = overlap_recommendations(user=alice, members=[internal, customer])
    bobs = overlap_recommendations(user=bob, members=[bob_internal, bob_customer])

    top = max(choices, key=lambda c: c["confidence"])
    assert top["params"] == {"keep_ids": [customer.pk]}
    assert "kept the customer meeting over the internal one 5 of the last 5 times" in top["reason"]
    assert max(bobs, key=lambda c: c["confidence"])["params"] == {"keep_ids": [bob_internal.pk]}
