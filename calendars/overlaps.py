"""Overlapping appointments: which ones clash, and which of a clashing group are kept, dropped or
left to a person. Pure functions: tests/test_overlap_rules.py."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

FREE = "free"
TENTATIVE = "tentative"
_IMPORTANCE_RANK = {"low": 0, "normal": 1, "high": 2}


@dataclass(frozen=True)
class Slot:
    """One appointment as the rules see it; `show_as` and `importance` use Graph's values.

    Keys of one batch must be mutually orderable (all Graph ids or all primary keys): they break
    ties between slots with identical times so results never depend on input order.
    """

    key: Hashable
    start: datetime
    end: datetime
    show_as: str = "busy"
    importance: str | None = "normal"
    subject: str = ""


def slot_order(slot: Slot) -> tuple[datetime, datetime, Hashable]:
    return (slot.start, slot.end, slot.key)


def _is_free(slot: Slot) -> bool:
    return (slot.show_as or "").lower() == FREE


def _is_tentative(slot: Slot) -> bool:
    return (slot.show_as or "").lower() == TENTATIVE


def _rank(slot: Slot) -> int:
    # Graph leaves importance out on some events; anything unrecognised is treated as normal.
    return _IMPORTANCE_RANK.get((slot.importance or "").lower(), _IMPORTANCE_RANK["normal"])


def overlaps(a: Slot, b: Slot) -> bool:
    """One starts before the other ends; back-to-back slots do not overlap."""
    return a.start < b.end and b.start < a.end


def overlap_groups(slots: Iterable[Slot]) -> list[list[Slot]]:
    """Groups of two or more slots chained by overlap, each ordered by start.

    A slot joins the group while it starts before the latest end seen so far, so a long meeting
    holds together shorter ones that do not overlap each other.
    """
    groups: list[list[Slot]] = []
    current: list[Slot] = []
    latest_end: datetime | None = None
    for slot in sorted(slots, key=slot_order):
        if current and latest_end is not None and slot.start < latest_end:
            current.append(slot)
            latest_end = max(latest_end, slot.end)
            continue
        if len(current) > 1:
            groups.append(current)
        current, latest_end = [slot], slot.end
    if len(current) > 1:
        groups.append(current)
    return groups


@dataclass(frozen=True)
class Resolution:
    group: tuple[Slot, ...]
    kept: tuple[Slot, ...]
    dropped: tuple[tuple[Slot, str], ...]  # (slot, reason)
    conflict: bool = False
    recommendation: str | None = None


def resolve_group(group: Sequence[Slot]) -> Resolution:
    """Resolve one overlap group automatically, or report it as a conflict.

    Drop `free`; drop `tentative` when a confirmed booking remains; then the unique highest
    importance wins. A tie at the highest importance is a conflict and nothing in the group is
    dropped, not even the free or tentative slots: the user decides the whole group in the admin,
    and a partial automatic answer next to an open question would be confusing to review.
    """
    ordered = tuple(sorted(group, key=slot_order))
    dropped: list[tuple[Slot, str]] = [(slot, "free") for slot in ordered if _is_free(slot)]
    remaining = [slot for slot in ordered if not _is_free(slot)]
    if any(_is_tentative(slot) for slot in remaining) and any(
        not _is_tentative(slot) for slot in remaining
    ):
        dropped += [
            (slot, "tentative while a confirmed booking overlaps")
            for slot in remaining
            if _is_tentative(slot)
        ]
        remaining = [slot for slot in remaining if not _is_tentative(slot)]
    if len(remaining) > 1:
        top = max(_rank(slot) for slot in remaining)
        winners = [slot for slot in remaining if _rank(slot) == top]
        if len(winners) > 1:
            return Resolution(
                group=ordered,
                kept=ordered,
                dropped=(),
                conflict=True,
                recommendation=_recommend(winners),
            )
        dropped += [(slot, "lower importance") for slot in remaining if _rank(slot) < top]
        remaining = winners
    dropped.sort(key=lambda pair: slot_order(pair[0]))
    return Resolution(group=ordered, kept=tuple(remaining), dropped=tuple(dropped))


def resolve_overlaps(slots: Iterable[Slot]) -> list[Resolution]:
    return [resolve_group(group) for group in overlap_groups(slots)]


def _recommend(tied: Sequence[Slot]) -> str:
    # The longest booking usually is the real one (a short call squeezed into a workshop is the
    # exception the user will spot); ties go to the earliest start so the advice is stable.
    best = min(tied, key=lambda slot: (-(slot.end - slot.start), *slot_order(slot)))
    importance = (tied[0].importance or "normal").lower()
    if importance not in _IMPORTANCE_RANK:
        importance = "normal"
    listed = ", ".join(f"{_label(slot)} ({_when(slot)})" for slot in tied)
    return (
        f"{len(tied)} overlapping appointments share the highest importance ({importance}): "
        f"{listed}. Keep {_label(best)} ({_when(best)}), the longest, or keep several if you "
        "really attended them."
    )


def _label(slot: Slot) -> str:
    return f"'{slot.subject}'" if slot.subject.strip() else "(no subject)"


def _when(slot: Slot) -> str:
    if slot.start.date() == slot.end.date():
        return f"{slot.start:%Y-%m-%d %H:%M}\u2013{slot.end:%H:%M}"
    return f"{slot.start:%Y-%m-%d %H:%M}\u2013{slot.end:%Y-%m-%d %H:%M}"
