"""The ways an action item can be settled, registered by the apps that know how.

Auditing is the lowest app, yet its admin and API offer choices that other apps carry out
(archiving settles overlaps and meetings deleted in the source). Those apps register, per event
type, the choices it offers and the function that carries each out, in their
`AppConfig.ready`; the admin and API look them up here. A choice nobody registered raises
ImproperlyConfigured rather than doing nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

from auditing.models import ActionLog

if TYPE_CHECKING:
    # AUTH_USER_MODEL as django-stubs resolves it: auditing sits below accounts.
    from django.contrib.auth.models import _User as User


class ResolutionFailed(Exception):
    """The item cannot be settled that way; the message says why (shown as an admin message,
    and as a 400 field error by the API)."""


Resolver = Callable[..., Any]

_RESOLVERS: dict[str, dict[str, Resolver]] = {}


def resolutions_register(
    *, event_type: ActionLog.EventType, choices: Mapping[str, Resolver]
) -> None:
    """Register the choices an event type's items offer. Each resolver is called with the
    item, the person settling it (`by`) and the choice's own keyword arguments."""
    _RESOLVERS.setdefault(str(event_type), {}).update(choices)


def item_resolve(
    *, event_type: ActionLog.EventType, choice: str, item: ActionLog, by: User, **options: Any
) -> Any:
    """Settle `item` the way `choice` (one of `event_type`'s) says; the resolver checks that
    the item is one it can settle and raises ResolutionFailed when not."""
    resolver = _RESOLVERS.get(str(event_type), {}).get(choice)
    if resolver is None:
        raise ImproperlyConfigured(
            f"No resolver is registered for {event_type!s} items and the choice {choice!r}."
        )
    return resolver(item=item, by=by, **options)
