"""The ways an action item can be settled, registered by the apps that know how.

Auditing is the lowest app, yet its admin and API offer choices that other apps carry out
(archiving settles overlaps and meetings deleted in the source). Those apps register, per event
type, the choices it offers and the function that carries each out, in their
`AppConfig.ready`; the admin and API look them up here. A choice nobody registered raises
ImproperlyConfigured rather than doing nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from django.core.exceptions import ImproperlyConfigured, ValidationError

if TYPE_CHECKING:
    # AUTH_USER_MODEL as django-stubs resolves it: auditing sits below accounts.
    from django.contrib.auth.models import _User as User


class ActionItem(Protocol):
    """What the registry needs of an action item (auditing.models.ActionLog), named without
    importing the models, which ask this registry what each item type offers."""

    event_type: str


class ResolutionFailed(Exception):
    """The item cannot be settled that way; the message says why (shown as an admin message,
    and as a 400 field error by the API)."""


Resolver = Callable[..., Any]
DismissHook = Callable[..., None]

_RESOLVERS: dict[str, dict[str, Resolver]] = {}
_ON_DISMISS: dict[str, DismissHook] = {}


@dataclass(frozen=True)
class FreeChoice:
    """A choice the item page offers with a value the person picks from `options(item)` (the
    values the item's owner may use, as (value, label) pairs), passed to the resolver as
    `param`; a value not in the options is refused before the resolver is called."""

    choice: str
    param: str
    label: str
    options: Callable[[Any], list[tuple[str, str]]]


_FREE_CHOICES: dict[str, dict[str, FreeChoice]] = {}


def free_choice_register(*, event_type: str, free_choice: FreeChoice) -> None:
    _FREE_CHOICES.setdefault(str(event_type), {})[free_choice.choice] = free_choice


def free_choices(*, event_type: str) -> list[FreeChoice]:
    return list(_FREE_CHOICES.get(str(event_type), {}).values())


def resolutions_register(
    *,
    event_type: str,
    choices: Mapping[str, Resolver],
    on_dismiss: DismissHook | None = None,
) -> None:
    """Register the choices an event type's items offer. Each resolver is called with the
    item, the person settling it (`by`) and the choice's own keyword arguments (a
    recommendation's `params`), and returns what it did in words (or None).

    `on_dismiss(item=, by=, recommendation=)` hears that a person turned a recommendation (or,
    with None, the whole item) down, so the app that offered it learns from that."""
    _RESOLVERS.setdefault(str(event_type), {}).update(choices)
    if on_dismiss is not None:
        _ON_DISMISS[str(event_type)] = on_dismiss


def resolution_choices(*, event_type: str) -> frozenset[str]:
    return frozenset(_RESOLVERS.get(str(event_type), {}))


def recommendations_check(*, event_type: str, recommendations: list[dict[str, Any]] | None) -> None:
    """Every recommendation's action must be a choice registered for the event type: a
    recommendation nobody can carry out is refused when it is written, not when clicked."""
    known = resolution_choices(event_type=event_type)
    for item in recommendations or []:
        if item.get("action") not in known:
            raise ValidationError(
                {
                    "recommendations": f"{item.get('action')!r} is not a way to settle a "
                    f"{event_type} item (registered: {', '.join(sorted(known)) or 'none'})."
                }
            )


def dismissal_notify(*, item: ActionItem, by: User, recommendation: dict[str, Any] | None) -> None:
    hook = _ON_DISMISS.get(str(item.event_type))
    if hook is not None:
        hook(item=item, by=by, recommendation=recommendation)


def item_resolve(
    *, event_type: str, choice: str, item: ActionItem, by: User, **options: Any
) -> Any:
    """Settle `item` the way `choice` (one of `event_type`'s) says; the resolver checks that
    the item is one it can settle and raises ResolutionFailed when not."""
    resolver = _RESOLVERS.get(str(event_type), {}).get(choice)
    if resolver is None:
        raise ImproperlyConfigured(
            f"No resolver is registered for {event_type!s} items and the choice {choice!r}."
        )
    return resolver(item=item, by=by, **options)
