"""Overlapping appointments: how groups form and which appointments resolution keeps."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from calendars.overlaps import (
    Resolution,
    Slot,
    overlap_groups,
    overlaps,
    resolve_group,
    resolve_overlaps,
)


def at(hhmm: str, day: int = 10) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(2025, 6, day, hours, minutes, tzinfo=UTC)


def slot(key: str, start: str, end: str, **fields: str | None) -> Slot:
    return Slot(key=key, start=at(start), end=at(end), subject=fields.pop("subject", key), **fields)


def keys(slots: tuple[Slot, ...] | list[Slot]) -> list[str]:
    return [s.key for s in slots]


def dropped(resolution: Resolution) -> dict[str, str]:
    return {s.key: reason for s, reason in resolution.dropped}


# --- overlaps ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("09:00", "10:00"), ("09:30", "10:30")),
        (("09:00", "12:00"), ("10:00", "11:00")),
        (("09:00", "10:00"), ("09:00", "10:00")),
        (("09:00", "10:00"), ("09:59", "11:00")),
        (("09:00", "10:00"), ("08:00", "09:01")),
    ],
)
def test_appointments_overlap_when_one_starts_before_the_other_ends(
    a: tuple[str, str], b: tuple[str, str]
) -> None:
    first, second = slot("a", *a), slot("b", *b)
    assert overlaps(first, second)
    assert overlaps(second, first)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("09:00", "10:00"), ("10:00", "11:00")),
        (("09:00", "10:00"), ("11:00", "12:00")),
        (("10:00", "11:00"), ("09:00", "10:00")),
    ],
)
def test_back_to_back_or_separate_appointments_do_not_overlap(
    a: tuple[str, str], b: tuple[str, str]
) -> None:
    assert not overlaps(slot("a", *a), slot("b", *b))


# --- overlap_groups ---------------------------------------------------------------------------


def test_a_long_appointment_holds_shorter_ones_that_do_not_overlap_each_other_in_one_group() -> (
    None
):
    a = slot("A", "09:00", "12:00")
    b = slot("B", "09:30", "10:00")
    c = slot("C", "11:00", "11:30")
    assert [keys(group) for group in overlap_groups([c, b, a])] == [["A", "B", "C"]]


def test_a_chain_of_overlaps_is_one_group() -> None:
    slots = [
        slot("A", "09:00", "10:00"),
        slot("B", "09:45", "11:00"),
        slot("C", "10:30", "12:00"),
        slot("D", "11:59", "13:00"),
    ]
    assert [keys(group) for group in overlap_groups(slots)] == [["A", "B", "C", "D"]]


def test_back_to_back_appointments_form_no_group() -> None:
    slots = [slot("A", "09:00", "10:00"), slot("B", "10:00", "11:00"), slot("C", "11:00", "12:00")]
    assert overlap_groups(slots) == []


def test_a_lone_appointment_is_not_a_group() -> None:
    assert overlap_groups([slot("A", "09:00", "10:00")]) == []


def test_no_appointments_means_no_groups() -> None:
    assert overlap_groups([]) == []


def test_separate_clusters_are_separate_groups() -> None:
    slots = [
        slot("D", "14:30", "15:30"),
        slot("A", "09:00", "10:00"),
        slot("E", "16:00", "17:00"),
        slot("C", "14:00", "15:00"),
        slot("B", "09:30", "10:30"),
    ]
    assert [keys(group) for group in overlap_groups(slots)] == [["A", "B"], ["C", "D"]]


def test_a_group_ends_when_the_next_appointment_starts_at_the_latest_end() -> None:
    slots = [slot("A", "09:00", "11:00"), slot("B", "09:30", "10:00"), slot("C", "11:00", "12:00")]
    assert [keys(group) for group in overlap_groups(slots)] == [["A", "B"]]


def test_identical_times_are_ordered_by_key() -> None:
    slots = [slot("b", "09:00", "10:00"), slot("c", "09:00", "10:00"), slot("a", "09:00", "10:00")]
    assert [keys(group) for group in overlap_groups(slots)] == [["a", "b", "c"]]


def test_groups_are_ordered_by_start_then_end() -> None:
    slots = [slot("long", "09:00", "11:00"), slot("short", "09:00", "09:30")]
    assert [keys(group) for group in overlap_groups(slots)] == [["short", "long"]]


def test_grouping_does_not_depend_on_input_order() -> None:
    slots = [slot("A", "09:00", "12:00"), slot("B", "09:30", "10:00"), slot("C", "11:00", "11:30")]
    assert overlap_groups(slots) == overlap_groups(list(reversed(slots)))


def test_groups_span_midnight() -> None:
    late = Slot("late", datetime(2025, 6, 10, 23, 0, tzinfo=UTC), at("01:00", day=11))
    early = Slot("early", at("00:30", day=11), at("02:00", day=11))
    assert [keys(group) for group in overlap_groups([early, late])] == [["late", "early"]]


# --- resolve_group: automatic resolution ------------------------------------------------------


def test_a_free_appointment_is_dropped() -> None:
    resolution = resolve_group(
        [slot("busy", "09:00", "10:00"), slot("free", "09:30", "10:30", show_as="free")]
    )
    assert (keys(resolution.kept), dropped(resolution)) == (["busy"], {"free": "free"})


def test_a_tentative_appointment_is_dropped_when_a_confirmed_one_overlaps() -> None:
    resolution = resolve_group(
        [slot("busy", "09:00", "10:00"), slot("maybe", "09:30", "10:30", show_as="tentative")]
    )
    assert keys(resolution.kept) == ["busy"]
    assert dropped(resolution) == {"maybe": "tentative while a confirmed booking overlaps"}


@pytest.mark.parametrize("show_as", ["busy", "oof", "workingElsewhere", "unknown"])
def test_every_status_but_free_and_tentative_counts_as_confirmed(show_as: str) -> None:
    resolution = resolve_group(
        [
            slot("sure", "09:00", "10:00", show_as=show_as),
            slot("maybe", "09:30", "10:30", show_as="tentative"),
        ]
    )
    assert keys(resolution.kept) == ["sure"]


def test_a_tentative_appointment_beats_a_free_one() -> None:
    resolution = resolve_group(
        [
            slot("maybe", "09:00", "10:00", show_as="tentative"),
            slot("free", "09:30", "10:30", show_as="free"),
        ]
    )
    assert (keys(resolution.kept), resolution.conflict) == (["maybe"], False)


@pytest.mark.parametrize(
    ("winner", "loser"),
    [("high", "normal"), ("high", "low"), ("normal", "low"), ("high", None), (None, "low")],
)
def test_the_unique_highest_importance_wins(winner: str | None, loser: str | None) -> None:
    resolution = resolve_group(
        [
            slot("loser", "09:00", "10:00", importance=loser),
            slot("winner", "09:30", "10:30", importance=winner),
        ]
    )
    assert (keys(resolution.kept), dropped(resolution)) == (
        ["winner"],
        {"loser": "lower importance"},
    )


@pytest.mark.parametrize("missing", [None, "", "urgent"])
def test_missing_or_unknown_importance_counts_as_normal(missing: str | None) -> None:
    resolution = resolve_group(
        [
            slot("a", "09:00", "10:00", importance=missing),
            slot("b", "09:30", "10:30", importance="low"),
        ]
    )
    assert keys(resolution.kept) == ["a"]


def test_importance_is_read_ignoring_case() -> None:
    resolution = resolve_group(
        [slot("a", "09:00", "10:00", importance="High"), slot("b", "09:30", "10:30")]
    )
    assert keys(resolution.kept) == ["a"]


def test_show_as_is_read_ignoring_case() -> None:
    resolution = resolve_group(
        [slot("a", "09:00", "10:00"), slot("b", "09:30", "10:30", show_as="Free")]
    )
    assert keys(resolution.kept) == ["a"]


def test_free_tentative_and_importance_rules_apply_in_turn() -> None:
    resolution = resolve_group(
        [
            slot("free-high", "09:00", "10:00", show_as="free", importance="high"),
            slot("tentative-high", "09:05", "10:00", show_as="tentative", importance="high"),
            slot("busy-low", "09:10", "10:00", importance="low"),
            slot("busy-normal", "09:15", "10:00"),
        ]
    )
    assert keys(resolution.kept) == ["busy-normal"]
    assert dropped(resolution) == {
        "free-high": "free",
        "tentative-high": "tentative while a confirmed booking overlaps",
        "busy-low": "lower importance",
    }


def test_only_tentative_appointments_are_decided_by_importance() -> None:
    resolution = resolve_group(
        [
            slot("a", "09:00", "10:00", show_as="tentative", importance="high"),
            slot("b", "09:30", "10:30", show_as="tentative"),
        ]
    )
    assert (keys(resolution.kept), dropped(resolution)) == (["a"], {"b": "lower importance"})


def test_all_free_appointments_are_all_dropped() -> None:
    resolution = resolve_group(
        [slot("a", "09:00", "10:00", show_as="free"), slot("b", "09:30", "10:30", show_as="free")]
    )
    assert (resolution.kept, resolution.conflict) == ((), False)
    assert dropped(resolution) == {"a": "free", "b": "free"}


def test_an_automatic_resolution_keeps_and_drops_every_slot_exactly_once() -> None:
    group = [
        slot("a", "09:00", "10:00", show_as="free"),
        slot("b", "09:10", "10:00", show_as="tentative"),
        slot("c", "09:20", "10:00", importance="high"),
        slot("d", "09:30", "10:00"),
    ]
    resolution = resolve_group(group)
    assert sorted(keys(resolution.kept) + list(dropped(resolution))) == ["a", "b", "c", "d"]


def test_an_automatic_resolution_has_no_recommendation() -> None:
    resolution = resolve_group(
        [slot("a", "09:00", "10:00", importance="high"), slot("b", "09:30", "10:30")]
    )
    assert (resolution.conflict, resolution.recommendation) == (False, None)


def test_the_resolution_lists_the_whole_group_in_order() -> None:
    b, a = slot("b", "09:30", "10:30"), slot("a", "09:00", "10:00", importance="high")
    assert resolve_group([b, a]).group == (a, b)


# --- resolve_group: conflicts -----------------------------------------------------------------


@pytest.mark.parametrize("importance", ["low", "normal", "high", None])
def test_a_tie_at_the_highest_importance_is_a_conflict(importance: str | None) -> None:
    resolution = resolve_group(
        [
            slot("a", "09:00", "10:00", importance=importance),
            slot("b", "09:30", "10:30", importance=importance),
        ]
    )
    assert resolution.conflict


def test_a_conflict_drops_nothing_not_even_free_or_tentative_or_lower_importance() -> None:
    group = [
        slot("free", "09:00", "10:00", show_as="free"),
        slot("maybe", "09:05", "10:00", show_as="tentative"),
        slot("low", "09:10", "10:00", importance="low"),
        slot("a", "09:15", "10:00"),
        slot("b", "09:20", "10:00"),
    ]
    resolution = resolve_group(group)
    assert (resolution.conflict, keys(resolution.kept), resolution.dropped) == (
        True,
        ["free", "maybe", "low", "a", "b"],
        (),
    )


def test_a_three_way_tie_is_one_conflict_naming_all_three() -> None:
    resolution = resolve_group(
        [
            slot("a", "09:00", "10:00", subject="Design review", importance="high"),
            slot("b", "09:15", "10:00", subject="Acme call", importance="high"),
            slot("c", "09:30", "10:00", subject="Globex sync", importance="high"),
            slot("d", "09:00", "10:00", subject="Standup", importance="normal"),
        ]
    )
    assert resolution.conflict
    assert resolution.recommendation is not None
    for subject in ("'Design review'", "'Acme call'", "'Globex sync'"):
        assert subject in resolution.recommendation
    assert "Standup" not in resolution.recommendation


def test_a_conflict_recommends_keeping_the_longest_with_its_times() -> None:
    resolution = resolve_group(
        [
            slot("a", "09:00", "10:00", subject="Acme call"),
            slot("b", "09:30", "12:00", subject="Workshop"),
        ]
    )
    assert resolution.recommendation == (
        "2 overlapping appointments share the highest importance (normal): "
        "'Acme call' (2025-06-10 09:00\u201310:00), 'Workshop' (2025-06-10 09:30\u201312:00). "
        "Keep 'Workshop' (2025-06-10 09:30\u201312:00), the longest, "
        "or keep several if you really attended them."
    )


def test_equally_long_tied_appointments_recommend_the_earliest() -> None:
    resolution = resolve_group(
        [
            slot("b", "09:30", "10:30", subject="Later"),
            slot("a", "09:00", "10:00", subject="Earlier"),
        ]
    )
    assert resolution.recommendation is not None
    assert "Keep 'Earlier'" in resolution.recommendation


def test_identical_tied_appointments_recommend_the_first_by_key() -> None:
    resolution = resolve_group(
        [
            slot("b", "09:00", "10:00", subject="Copy"),
            slot("a", "09:00", "10:00", subject="Original"),
        ]
    )
    assert resolution.recommendation is not None
    assert "Keep 'Original'" in resolution.recommendation


def test_a_conflict_without_subjects_still_reads_clearly() -> None:
    resolution = resolve_group(
        [slot("a", "09:00", "10:00", subject=""), slot("b", "09:30", "10:00", subject="")]
    )
    assert resolution.recommendation is not None
    assert "Keep (no subject) (2025-06-10 09:00\u201310:00)" in resolution.recommendation


def test_a_recommendation_across_midnight_shows_both_dates() -> None:
    late = Slot("a", datetime(2025, 6, 10, 23, 0, tzinfo=UTC), at("02:00", day=11), subject="Night")
    other = Slot("b", at("00:00", day=11), at("01:00", day=11), subject="Call")
    resolution = resolve_group([late, other])
    assert resolution.recommendation is not None
    assert "'Night' (2025-06-10 23:00\u20132025-06-11 02:00)" in resolution.recommendation


def test_a_tie_below_a_unique_winner_is_no_conflict() -> None:
    resolution = resolve_group(
        [
            slot("a", "09:00", "10:00", importance="high"),
            slot("b", "09:10", "10:00"),
            slot("c", "09:20", "10:00"),
        ]
    )
    assert (resolution.conflict, keys(resolution.kept)) == (False, ["a"])


def test_a_tie_that_dropping_free_and_tentative_removes_is_no_conflict() -> None:
    resolution = resolve_group(
        [
            slot("a", "09:00", "10:00"),
            slot("b", "09:10", "10:00", show_as="free"),
            slot("c", "09:20", "10:00", show_as="tentative"),
        ]
    )
    assert (resolution.conflict, keys(resolution.kept)) == (False, ["a"])


# --- resolve_overlaps -------------------------------------------------------------------------


def test_every_group_gets_its_own_resolution() -> None:
    slots = [
        slot("a", "09:00", "10:00", importance="high"),
        slot("b", "09:30", "10:30"),
        slot("c", "14:00", "15:00"),
        slot("d", "14:30", "15:30"),
        slot("e", "16:00", "17:00"),
    ]
    resolutions = resolve_overlaps(slots)
    assert [(keys(r.group), keys(r.kept), r.conflict) for r in resolutions] == [
        (["a", "b"], ["a"], False),
        (["c", "d"], ["c", "d"], True),
    ]


def test_appointments_without_overlaps_need_no_resolution() -> None:
    assert resolve_overlaps([slot("a", "09:00", "10:00"), slot("b", "10:00", "11:00")]) == []
