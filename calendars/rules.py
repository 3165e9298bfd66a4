"""Pure calendar rules: billing categories, travel, overlaps and meeting modifications.

Plain functions over plain values, no ORM: the archive run and the admin feed them what they read
from Graph or the database, and the rules can be tested exhaustively without either.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

# --- Billing categories -----------------------------------------------------------------------

BILLABLE = "billable"
NON_BILLABLE = "non-billable"
BILLING_TYPES = frozenset({BILLABLE, NON_BILLABLE})
MARKERS = frozenset({"online"})

# A hyphen counts as the separator only with whitespace on both sides, so `non-billable` and
# `Smith-Jones` never split. Padding the name with a space first lets ` - billable` (which is
# `- billable` once trimmed) still be seen as a separator with an empty customer.
_SEPARATOR = re.compile(r"(?<=\s)-(?=\s)")
# Word processors and phones turn " - " into these; name the one found so the fix is obvious.
_LOOKALIKE_DASHES = {
    "\u2010": "a Unicode hyphen (\u2010)",
    "\u2011": "a non-breaking hyphen (\u2011)",
    "\u2012": "a figure dash (\u2012)",
    "\u2013": "an en dash (\u2013)",
    "\u2014": "an em dash (\u2014)",
    "\u2015": "a horizontal bar (\u2015)",
    "\u2212": "a minus sign (\u2212)",
    "\ufe58": "a small em dash (\ufe58)",
    "\ufe63": "a small hyphen-minus (\ufe63)",
    "\uff0d": "a full-width hyphen (\uff0d)",
}
_EXAMPLE = "e.g. 'Acme - billable' or 'non-billable - Acme'"


class CategoryError(ValueError):
    """The name is not a billing category; the message says exactly why."""


@dataclass(frozen=True)
class BillingCategory:
    customer: str
    billing_type: str  # "billable" | "non-billable"


def parse_billing_category(name: str) -> BillingCategory:
    """Read `<customer> - <billing type>` or `<billing type> - <customer>`.

    The billing type is matched case-insensitively and returned lower-case; the customer keeps
    its case. Whitespace around the whole name and around each side is ignored.
    """
    text = (name or "").strip()
    if not text:
        raise CategoryError(
            f"The category name is empty; a billing category looks like {_EXAMPLE}."
        )
    parts = _SEPARATOR.split(f" {text} ")
    if len(parts) == 1:
        dash = next((label for char, label in _LOOKALIKE_DASHES.items() if char in text), None)
        if dash:
            raise CategoryError(
                f"{text!r} uses {dash} where a billing category needs a plain hyphen (-) "
                f"with a space on each side, {_EXAMPLE}."
            )
        raise CategoryError(
            f"{text!r} has no ' - ' separator (a hyphen with a space on each side) between "
            f"customer and billing type, {_EXAMPLE}."
        )
    if len(parts) > 2:
        raise CategoryError(
            f"{text!r} has the ' - ' separator {len(parts) - 1} times; a billing category has it "
            f"exactly once, between customer and billing type ({_EXAMPLE})."
        )
    left, right = (part.strip() for part in parts)
    left_is_type = left.lower() in BILLING_TYPES
    right_is_type = right.lower() in BILLING_TYPES
    if left_is_type and right_is_type:
        raise CategoryError(
            f"{text!r} has a billing type on both sides and no customer; one side must name "
            f"the customer ({_EXAMPLE})."
        )
    if not left_is_type and not right_is_type:
        if not left or not right:
            raise CategoryError(
                f"{text!r} has an empty side and no billing type; one side must be 'billable' "
                f"or 'non-billable' and the other the customer ({_EXAMPLE})."
            )
        raise CategoryError(
            f"Neither {left!r} nor {right!r} in {text!r} is a billing type; one side must be "
            f"'billable' or 'non-billable' ({_EXAMPLE})."
        )
    billing_type, customer = (left, right) if left_is_type else (right, left)
    if not customer:
        raise CategoryError(
            f"{text!r} has no customer: the other side of ' - ' is empty ({_EXAMPLE})."
        )
    return BillingCategory(customer=customer, billing_type=billing_type.lower())


def is_marker(name: str) -> bool:
    """Markers (`Online`) describe an appointment without naming a customer."""
    return (name or "").strip().lower() in MARKERS


@dataclass(frozen=True)
class Billing:
    customer: str | None
    billing_type: str | None
    is_personal: bool
    markers: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    category: str | None = None  # the category name that decided, as written


def billing_from_categories(categories: Sequence[str]) -> Billing:
    """Who an appointment is billed to, read from its categories in list order.

    No categories at all means a personal appointment. Otherwise the first billing category
    decides; markers and names that are not billing categories never hide it. Every name that is
    neither a marker nor a billing category is reported in `problems`, wherever it stands, so a
    typo next to a valid category is still seen. Later billing categories are ignored silently:
    the first-one-wins rule is the documented behaviour, not a problem.
    """
    if not categories:
        return Billing(customer=None, billing_type=None, is_personal=True)
    chosen: BillingCategory | None = None
    chosen_name: str | None = None
    markers: list[str] = []
    problems: list[str] = []
    for name in categories:
        if is_marker(name):
            marker = name.strip().lower()
            if marker not in markers:
                markers.append(marker)
            continue
        try:
            category = parse_billing_category(name)
        except CategoryError as error:
            problems.append(str(error))
            continue
        if chosen is None:
            chosen, chosen_name = category, name.strip()
    if chosen is None and not problems:
        problems.append(
            f"No billing category: only the marker(s) {', '.join(markers)}; add one such as "
            "'Acme - billable'."
        )
    return Billing(
        customer=chosen.customer if chosen else None,
        billing_type=chosen.billing_type if chosen else None,
        is_personal=False,
        markers=tuple(markers),
        problems=tuple(problems),
        category=chosen_name,
    )


# --- Travel -----------------------------------------------------------------------------------

DEFAULT_TRAVEL_WORDS = frozenset(
    {
        "travel",
        "travelling",
        "traveling",
        "drive",
        "driving",
        "flight",
        "fly",
        "flying",
        "commute",
        "commuting",
        "transit",
        "journey",
        "trip",
        "airport",
        "station",
        "train",
        "taxi",
        "ferry",
    }
)


def is_travel(subject: str | None, words: Iterable[str] = DEFAULT_TRAVEL_WORDS) -> bool:
    """True when the subject holds one of `words` as a whole word, ignoring case.

    A multi-word entry ("car park") matches with any whitespace between its words. Lookarounds
    instead of `\\b` keep the whole-word rule right for entries that start or end with punctuation.
    """
    if not subject:
        return False
    entries = sorted({word.strip().lower() for word in words if word and word.strip()})
    if not entries:
        return False
    alternatives = "|".join(r"\s+".join(map(re.escape, entry.split())) for entry in entries)
    return re.search(rf"(?<!\w)(?:{alternatives})(?!\w)", subject, re.IGNORECASE) is not None


# --- Overlaps ---------------------------------------------------------------------------------

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


def _order(slot: Slot) -> tuple[datetime, datetime, Hashable]:
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
    for slot in sorted(slots, key=_order):
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
    ordered = tuple(sorted(group, key=_order))
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
    dropped.sort(key=lambda pair: _order(pair[0]))
    return Resolution(group=ordered, kept=tuple(remaining), dropped=tuple(dropped))


def resolve_overlaps(slots: Iterable[Slot]) -> list[Resolution]:
    return [resolve_group(group) for group in overlap_groups(slots)]


def _recommend(tied: Sequence[Slot]) -> str:
    # The longest booking usually is the real one (a short call squeezed into a workshop is the
    # exception the user will spot); ties go to the earliest start so the advice is stable.
    best = min(tied, key=lambda slot: (-(slot.end - slot.start), *_order(slot)))
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


# --- Meeting modifications --------------------------------------------------------------------

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
        key=lambda modification: _order(modification.slot),
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
            candidates.append((distance, _order(meeting), index))
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
