"""Billing categories and travel: what an appointment's Outlook categories and subject say about
billing. Pure functions, no ORM, no Graph: tested exhaustively in tests/test_category_rules.py."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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


# Travel

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
