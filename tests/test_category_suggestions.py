"""The category suggestion model (calendars/suggestions.py): per-feature counts of one user's
history, a weighted vote, and a reason quoting the counts; and the stored features it counts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from accounts.models import User
from calendars.models import AppointmentFeature
from calendars.suggestions import PERSONAL, CategoryModel, Evidence, evidence_of, outside_people
from tests.factories import AppointmentFactory

MODENA, ACME = "Modena - billable", "Acme - billable"


def meeting(*people: str, series: str | None = None, subject: str = "", hour: int = 10) -> Evidence:
    return evidence_of(
        event={"attendees": [{"emailAddress": {"address": p}} for p in people]},
        subject=subject,
        location=None,
        hour=hour,
        own_domains={"example.com"},
        series=series,
    )


def test_people_from_a_customers_domain_suggest_its_category_with_the_counts_as_reason() -> None:
    history = [(meeting(f"p{i}@modena.example"), MODENA) for i in range(8)]
    history.append((meeting("x@modena.example"), ACME))
    model = CategoryModel.fit(history)

    [top, *_] = model.suggest(meeting("new@modena.example"))

    assert top.label == MODENA
    assert 0.5 < top.confidence < 0.9  # 8 of 9 is telling, not certain
    assert (
        top.reason == "8 of your 9 meetings with people at modena.example were 'Modena - billable'"
    )


def test_the_other_occurrences_of_a_series_decide_its_category() -> None:
    model = CategoryModel.fit([(meeting(series="S1"), ACME)] * 4 + [(meeting(series="S2"), MODENA)])

    [top, *_] = model.suggest(meeting(series="S1"))

    assert (top.label, top.reason) == (
        ACME,
        "the other occurrences of this series are 'Acme - billable'",
    )


def test_a_meeting_with_nothing_the_history_knows_gets_no_suggestion() -> None:
    model = CategoryModel.fit([(meeting("a@acme.example", hour=10), ACME)] * 5)

    # Same time of day, but no person, series, word or place the history knows.
    assert model.suggest(meeting("b@globex.example", hour=10)) == []


def test_one_past_meeting_is_offered_but_not_confident() -> None:
    model = CategoryModel.fit([(meeting("a@acme.example"), ACME)])

    [top] = model.suggest(meeting("a@acme.example"))

    assert top.label == ACME
    assert top.confidence < 0.8
    assert "your one meeting with a@acme.example was 'Acme - billable'" in top.reason


def test_a_dismissed_category_is_left_out() -> None:
    model = CategoryModel.fit([(meeting("a@acme.example"), ACME)] * 3)

    assert model.suggest(meeting("a@acme.example"), exclude=[ACME]) == []


def test_meetings_the_user_left_unbilled_suggest_leaving_it_unbilled() -> None:
    model = CategoryModel.fit([(meeting("friend@gmail.example"), PERSONAL)] * 3)

    [top] = model.suggest(meeting("friend@gmail.example"))

    assert top.label == PERSONAL
    assert "were left unbilled" in top.reason


def test_outside_people_leave_out_the_users_own_domain_and_bad_addresses() -> None:
    event = {
        "attendees": [
            {"emailAddress": {"address": "Colleague@Example.com"}},
            {"emailAddress": {"address": "Gianni@Modena.example"}},
            {"emailAddress": {"name": "Room 4"}},
            "not a person",
        ],
        "organizer": {"emailAddress": {"address": "gianni@modena.example"}},
    }

    assert outside_people(event, {"example.com"}) == ("gianni@modena.example",)


@pytest.mark.django_db
def test_the_upgrade_stores_the_features_of_appointments_archived_before(alice: User) -> None:
    from importlib import import_module

    from django.apps import apps

    appointment = AppointmentFactory(
        user=alice,
        subject="Modena steering",
        start_time=datetime(2025, 5, 8, 9, tzinfo=UTC),
        end_time=datetime(2025, 5, 8, 10, tzinfo=UTC),
        ms_event_data={
            "seriesMasterId": "S1",
            "attendees": [{"emailAddress": {"address": "Gianni@modena.example"}}],
        },
    )
    AppointmentFeature.objects.all().delete()

    import_module("calendars.migrations.0008_backfill_appointment_features").forwards(apps, None)

    assert set(appointment.features.values_list("feature", flat=True)) == {
        "addr:gianni@modena.example",
        "dom:modena.example",
        "series:S1",
        "word:modena",
        "word:steering",
        "tod:morning",
    }


def test_a_person_and_their_domain_seen_in_the_same_meetings_are_one_reason() -> None:
    model = CategoryModel.fit([(meeting("wile@acme.example"), ACME)])

    [top] = model.suggest(meeting("wile@acme.example"))

    assert top.reason == "your one meeting with wile@acme.example was 'Acme - billable'"
