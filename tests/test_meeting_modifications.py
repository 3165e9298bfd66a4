"""Extended / shortened / early start / late start appointments adjust the meeting they modify."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from calendars.modifications import ModificationResult, apply_modifications, modification_kind
from calendars.overlaps import Slot

ACME = ["Acme - billable"]


def at(hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(2025, 6, 10, hours, minutes, tzinfo=UTC)


def slot(key: str, start: str, end: str, subject: str = "Design review") -> Slot:
    return Slot(key=key, start=at(start), end=at(end), subject=subject)


def apply(*slots: Slot, categories: dict[str, Sequence[str]] | None = None) -> ModificationResult:
    """Every slot carries the Acme category unless the test says otherwise."""
    return apply_modifications(slots, {s.key: ACME for s in slots} | (categories or {}))


def times(result: ModificationResult) -> dict[str, str]:
    return {s.key: f"{s.start:%H:%M}-{s.end:%H:%M}" for s in result.adjusted}


def keys(slots: Sequence[Slot]) -> list[str]:
    return [s.key for s in slots]


# --- modification_kind ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "kind"),
    [
        ("Extended", "extended"),
        ("extended", "extended"),
        ("  EXTENDED  ", "extended"),
        ("Shortened", "shortened"),
        ("Meeting shortened", "shortened"),
        ("Acme review (SHORTENED)", "shortened"),
        ("shortened: left early", "shortened"),
        ("Early start", "early_start"),
        ("Acme review - early start", "early_start"),
        ("EARLY   START", "early_start"),
        ("Late start", "late_start"),
        ("late start, traffic", "late_start"),
    ],
)
def test_a_modification_subject_names_its_kind(subject: str, kind: str) -> None:
    assert modification_kind(subject) == kind


@pytest.mark.parametrize(
    "subject",
    [
        "Meeting extended",
        "Extended review",
        "Extended: Acme",
        "Unshortened draft",
        "Shortenedness",
        "Early starters club",
        "Start early",
        "Late starter",
        "Design review",
        "",
        None,
    ],
)
def test_other_subjects_are_ordinary_appointments(subject: str | None) -> None:
    assert modification_kind(subject) is None


@pytest.mark.parametrize(
    "subject", ["Shortened, late start", "Early start, shortened", "Late start after early start"]
)
def test_a_subject_naming_two_kinds_is_an_ordinary_appointment(subject: str) -> None:
    assert modification_kind(subject) is None


# --- each kind --------------------------------------------------------------------------------


def test_extended_moves_the_end_to_the_end_of_the_extension() -> None:
    result = apply(slot("m", "10:00", "12:00"), slot("x", "12:00", "12:30", "Extended"))
    assert times(result) == {"m": "10:00-12:30"}


def test_shortened_moves_the_end_to_the_start_of_the_modification() -> None:
    result = apply(slot("m", "10:00", "12:00"), slot("x", "11:30", "12:00", "Shortened"))
    assert times(result) == {"m": "10:00-11:30"}


def test_early_start_moves_the_start_to_the_start_of_the_modification() -> None:
    result = apply(slot("m", "10:00", "12:00"), slot("x", "09:30", "10:00", "Early start"))
    assert times(result) == {"m": "09:30-12:00"}


def test_late_start_moves_the_start_to_the_end_of_the_modification() -> None:
    result = apply(slot("m", "10:00", "12:00"), slot("x", "10:00", "10:20", "Late start"))
    assert times(result) == {"m": "10:20-12:00"}


def test_a_modification_is_never_archived_itself() -> None:
    result = apply(slot("m", "10:00", "12:00"), slot("x", "12:00", "12:30", "Extended"))
    assert keys(result.adjusted) == ["m"]


def test_an_applied_modification_names_the_meeting_it_changed() -> None:
    extension = slot("x", "12:00", "12:30", "Extended")
    result = apply(slot("m", "10:00", "12:00"), extension)
    assert (result.applied, result.unmatched) == ([(extension, "m")], [])


def test_ordinary_appointments_keep_their_input_order() -> None:
    result = apply(
        slot("b", "14:00", "15:00"),
        slot("x", "12:00", "12:30", "Extended"),
        slot("a", "10:00", "12:00"),
    )
    assert keys(result.adjusted) == ["b", "a"]


def test_no_modifications_leave_every_appointment_as_it_was() -> None:
    slots = [slot("a", "09:00", "10:00"), slot("b", "11:00", "12:00")]
    assert apply(*slots) == ModificationResult(adjusted=slots, applied=[], unmatched=[])


# --- the five-minute tolerance ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "start", "end", "expected"),
    [
        ("Extended", "12:05", "12:30", "10:00-12:30"),
        ("Extended", "11:55", "12:30", "10:00-12:30"),
        ("Shortened", "11:30", "12:05", "10:00-11:30"),
        ("Shortened", "11:30", "11:55", "10:00-11:30"),
        ("Early start", "09:30", "10:05", "09:30-12:00"),
        ("Early start", "09:30", "09:55", "09:30-12:00"),
        ("Late start", "10:05", "10:20", "10:20-12:00"),
        ("Late start", "09:55", "10:20", "10:20-12:00"),
    ],
)
def test_a_modification_within_five_minutes_of_the_edge_matches(
    subject: str, start: str, end: str, expected: str
) -> None:
    result = apply(slot("m", "10:00", "12:00"), slot("x", start, end, subject))
    assert times(result) == {"m": expected}


@pytest.mark.parametrize(
    ("subject", "start", "end"),
    [
        ("Extended", "12:06", "12:30"),
        ("Extended", "11:54", "12:30"),
        ("Shortened", "11:30", "12:06"),
        ("Shortened", "11:30", "11:54"),
        ("Early start", "09:30", "10:06"),
        ("Early start", "09:30", "09:54"),
        ("Late start", "10:06", "10:20"),
        ("Late start", "09:54", "10:20"),
    ],
)
def test_a_modification_beyond_five_minutes_of_the_edge_is_unmatched(
    subject: str, start: str, end: str
) -> None:
    modification = slot("x", start, end, subject)
    result = apply(slot("m", "10:00", "12:00"), modification)
    assert (times(result), result.unmatched) == ({"m": "10:00-12:00"}, [modification])


@pytest.mark.parametrize(
    ("subject", "start", "end"),
    [
        ("Extended", "09:30", "10:00"),
        ("Shortened", "09:30", "10:00"),
        ("Early start", "12:00", "12:30"),
        ("Late start", "12:00", "12:30"),
    ],
)
def test_a_modification_at_the_wrong_edge_is_unmatched(subject: str, start: str, end: str) -> None:
    result = apply(slot("m", "10:00", "12:00"), slot("x", start, end, subject))
    assert len(result.unmatched) == 1


# --- categories -------------------------------------------------------------------------------


def test_a_modification_with_other_categories_is_unmatched() -> None:
    result = apply(
        slot("m", "10:00", "12:00"),
        slot("x", "12:00", "12:30", "Extended"),
        categories={"x": ["Globex - billable"]},
    )
    assert (times(result), keys(result.unmatched)) == ({"m": "10:00-12:00"}, ["x"])


def test_a_modification_with_an_extra_category_is_unmatched() -> None:
    result = apply(
        slot("m", "10:00", "12:00"),
        slot("x", "12:00", "12:30", "Extended"),
        categories={"x": [*ACME, "Online"]},
    )
    assert keys(result.unmatched) == ["x"]


def test_categories_match_in_any_order_and_case() -> None:
    result = apply(
        slot("m", "10:00", "12:00"),
        slot("x", "12:00", "12:30", "Extended"),
        categories={"m": ["Online", "Acme - billable"], "x": ["acme - BILLABLE", "online"]},
    )
    assert times(result) == {"m": "10:00-12:30"}


def test_uncategorised_modification_matches_an_uncategorised_meeting() -> None:
    meeting, extension = slot("m", "10:00", "12:00"), slot("x", "12:00", "12:30", "Extended")
    result = apply_modifications([meeting, extension], {})
    assert times(result) == {"m": "10:00-12:30"}


def test_the_modification_picks_the_meeting_with_its_categories_among_several() -> None:
    result = apply(
        slot("acme", "10:00", "12:00"),
        slot("globex", "10:00", "12:00"),
        slot("x", "12:00", "12:30", "Extended"),
        categories={"globex": ["Globex - billable"], "x": ["Globex - billable"]},
    )
    assert times(result) == {"acme": "10:00-12:00", "globex": "10:00-12:30"}


# --- choosing among several meetings ----------------------------------------------------------


def test_the_meeting_with_the_nearest_edge_is_chosen() -> None:
    result = apply(
        slot("far", "10:00", "11:57"),
        slot("near", "10:30", "11:59"),
        slot("x", "12:00", "12:30", "Extended"),
    )
    assert times(result) == {"far": "10:00-11:57", "near": "10:30-12:30"}


def test_the_nearest_edge_may_lie_after_the_modification_start() -> None:
    result = apply(
        slot("before", "10:00", "11:58"),
        slot("after", "10:30", "12:01"),
        slot("x", "12:00", "12:30", "Extended"),
    )
    assert times(result) == {"before": "10:00-11:58", "after": "10:30-12:30"}


def test_equally_near_meetings_go_to_the_earliest() -> None:
    result = apply(
        slot("later", "11:00", "12:00"),
        slot("earlier", "10:00", "12:00"),
        slot("x", "12:00", "12:30", "Extended"),
    )
    assert times(result) == {"later": "11:00-12:00", "earlier": "10:00-12:30"}


def test_a_modification_never_matches_another_modification() -> None:
    first, second = (
        slot("x1", "11:00", "12:00", "Extended"),
        slot("x2", "12:00", "12:30", "Extended"),
    )
    result = apply(first, second)
    assert (result.adjusted, result.unmatched) == ([], [first, second])


def test_one_modification_changes_only_one_meeting() -> None:
    result = apply(
        slot("a", "10:00", "12:00"),
        slot("b", "10:00", "12:00"),
        slot("x", "12:00", "12:30", "Extended"),
    )
    assert sorted(times(result).values()) == ["10:00-12:00", "10:00-12:30"]


# --- several modifications of one meeting -----------------------------------------------------


def test_consecutive_extensions_chain() -> None:
    result = apply(
        slot("m", "10:00", "12:00"),
        slot("x2", "12:30", "13:00", "Extended"),
        slot("x1", "12:00", "12:30", "Extended"),
    )
    assert (times(result), result.unmatched) == ({"m": "10:00-13:00"}, [])


def test_chained_modifications_are_applied_in_time_order() -> None:
    result = apply(
        slot("m", "10:00", "12:00"),
        slot("x2", "12:30", "13:00", "Extended"),
        slot("x1", "12:00", "12:30", "Extended"),
    )
    assert [(modification.key, key) for modification, key in result.applied] == [
        ("x1", "m"),
        ("x2", "m"),
    ]


def test_consecutive_early_starts_chain_backwards() -> None:
    result = apply(
        slot("m", "10:00", "12:00"),
        slot("e1", "09:30", "10:00", "Early start"),
        slot("e2", "09:00", "09:30", "Early start"),
    )
    assert (times(result), result.unmatched) == ({"m": "09:00-12:00"}, [])


def test_modifications_of_both_edges_all_apply() -> None:
    result = apply(
        slot("m", "10:00", "12:00"),
        slot("late", "10:00", "10:15", "Late start"),
        slot("ext", "12:00", "12:45", "Extended"),
    )
    assert times(result) == {"m": "10:15-12:45"}


def test_an_extension_after_a_shortening_starts_from_the_shortened_end() -> None:
    result = apply(
        slot("m", "10:00", "12:00"),
        slot("short", "11:00", "12:00", "Shortened"),
        slot("ext", "11:00", "11:15", "Extended"),
    )
    assert times(result) == {"m": "10:00-11:15"}


def test_an_extension_that_follows_a_missing_one_is_unmatched() -> None:
    gap = slot("x2", "12:30", "13:00", "Extended")
    result = apply(slot("m", "10:00", "12:00"), gap)
    assert (times(result), result.unmatched) == ({"m": "10:00-12:00"}, [gap])


def test_modifications_of_different_meetings_apply_to_each() -> None:
    result = apply(
        slot("a", "09:00", "10:00"),
        slot("b", "14:00", "15:00"),
        slot("xa", "10:00", "10:30", "Extended"),
        slot("xb", "14:00", "14:10", "Late start"),
    )
    assert times(result) == {"a": "09:00-10:30", "b": "14:10-15:00"}


# --- refusing impossible adjustments ----------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "start", "end"),
    [
        ("Shortened", "10:00", "12:00"),
        ("Shortened", "09:00", "12:00"),
        ("Late start", "10:00", "12:00"),
        ("Late start", "10:00", "13:00"),
    ],
)
def test_an_adjustment_that_would_end_the_meeting_before_it_starts_is_refused(
    subject: str, start: str, end: str
) -> None:
    modification = slot("x", start, end, subject)
    result = apply(slot("m", "10:00", "12:00"), modification)
    assert (times(result), result.applied, result.unmatched) == (
        {"m": "10:00-12:00"},
        [],
        [modification],
    )


def test_a_refused_modification_leaves_the_others_to_apply() -> None:
    result = apply(
        slot("m", "10:00", "11:00"),
        slot("short", "10:00", "11:00", "Shortened"),
        slot("late", "10:00", "10:15", "Late start"),
    )
    assert (times(result), keys(result.unmatched)) == ({"m": "10:15-11:00"}, ["short"])


def test_a_late_start_the_meeting_was_too_short_for_applies_once_an_extension_makes_room() -> None:
    result = apply(
        slot("m", "10:00", "10:30"),
        slot("late", "10:00", "10:30", "Late start"),
        slot("ext", "10:30", "11:00", "Extended"),
    )
    assert (times(result), result.unmatched) == ({"m": "10:30-11:00"}, [])
