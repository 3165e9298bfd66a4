"""Meeting modifications: marker appointments ("extended", "shortened", "early start", "late
start") that change the meeting they touch instead of being billed. Pure functions:
tests/test_meeting_modifications.py."""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from calendars.overlaps import Slot, slot_order

EXTENDED = "extended"
SHORTENED = "shortened"
EARLY_START = "early_start"
LATE_START = "late_start"
MODIFICATION_TOLERANCE = timedelta(minutes=5)

_PHRASES = {
    SHORTENED: re.compile(r"(?<!\w)shortened(?!\w)", re.IGNORECASE),
    EARLY_START: re.compile(r"(?<!\w)early\s+start(?!\w)", re.IGNORECASE),
    LATE_START: re.compile(r"(?<!\w)late\s+start(?!\w)", re.IGNORECASE),
}


def modification_kind(subject: str | None) -> str | None:
    """The kind of modification a subject announces, or None for an ordinary appointment.

    A subject naming two different kinds ("shortened, late start") is ambiguous; it is treated as
    an ordinary appointment so it is archived and seen rather than applied by a guess.
    """
    text = (subject or "").strip()
    if text.lower() == EXTENDED:
        return EXTENDED
    kinds = [kind for kind, phrase in _PHRASES.items() if phrase.search(text)]
    return kinds[0] if len(kinds) == 1 else None


@dataclass(frozen=True)
class Modification:
    slot: Slot
    kind: str


@dataclass(frozen=True)
class ModificationResult:
    adjusted: list[Slot]  # the ordinary slots, in input order, with their new times
    applied: list[tuple[Slot, Hashable]]  # (modification, key of the meeting it changed)
    unmatched: list[Slot]  # modifications that changed nothing; never archived either


def apply_modifications(
    slots: Sequence[Slot], categories: Mapping[Hashable, Sequence[str]]
) -> ModificationResult:
    """Apply `Extended` / shortened / early start / late start slots to the meetings they change.

    A modification matches a meeting with the same categories (as a set, ignoring case) whose
    relevant edge is within five minutes: Extended starts at the end, shortened ends at the end,
    early start ends at the start, late start starts at the start. The nearest edge wins, then the
    earliest meeting. Modifications apply in order of their start, each to the meeting as already
    adjusted, so consecutive extensions chain. One that matches nothing yet is retried after the
    others, which lets a chain of early starts (whose order is the reverse) join up as well.
    An adjustment that would leave end <= start is refused.
    """
    kinds = {index: modification_kind(slot.subject) for index, slot in enumerate(slots)}
    modifications = sorted(
        (Modification(slots[index], kind) for index, kind in kinds.items() if kind is not None),
        key=lambda modification: slot_order(modification.slot),
    )
    current = {index: slot for index, slot in enumerate(slots) if kinds[index] is None}
    applied: list[tuple[Slot, Hashable]] = []
    pending = modifications
    while pending:
        still_pending: list[Modification] = []
        for modification in pending:
            match = _match(modification, current, categories)
            if match is None:
                still_pending.append(modification)
                continue
            index, adjusted = match
            current[index] = adjusted
            applied.append((modification.slot, adjusted.key))
        if len(still_pending) == len(pending):
            break
        pending = still_pending
    return ModificationResult(
        adjusted=list(current.values()),
        applied=applied,
        unmatched=[modification.slot for modification in pending],
    )


def _match(
    modification: Modification,
    meetings: Mapping[int, Slot],
    categories: Mapping[Hashable, Sequence[str]],
) -> tuple[int, Slot] | None:
    wanted = _category_set(categories.get(modification.slot.key, ()))
    candidates: list[tuple[timedelta, tuple[datetime, datetime, Hashable], int]] = []
    for index, meeting in meetings.items():
        if _category_set(categories.get(meeting.key, ())) != wanted:
            continue
        distance = abs(_edge_distance(modification, meeting))
        if distance <= MODIFICATION_TOLERANCE:
            candidates.append((distance, slot_order(meeting), index))
    if not candidates:
        return None
    *_, index = min(candidates)
    adjusted = _adjust(modification, meetings[index])
    if adjusted.end <= adjusted.start:
        return None
    return index, adjusted


def _category_set(names: Sequence[str]) -> frozenset[str]:
    # Outlook category names are unique per mailbox ignoring case, so case carries no meaning.
    return frozenset(name.strip().lower() for name in names)


def _edge_distance(modification: Modification, meeting: Slot) -> timedelta:
    slot, kind = modification.slot, modification.kind
    if kind == EXTENDED:
        return slot.start - meeting.end
    if kind == SHORTENED:
        return slot.end - meeting.end
    if kind == EARLY_START:
        return slot.end - meeting.start
    return slot.start - meeting.start


def _adjust(modification: Modification, meeting: Slot) -> Slot:
    slot, kind = modification.slot, modification.kind
    if kind == EXTENDED:
        return replace(meeting, end=slot.end)
    if kind == SHORTENED:
        return replace(meeting, end=slot.start)
    if kind == EARLY_START:
        return replace(meeting, start=slot.start)
    return replace(meeting, start=slot.end)
