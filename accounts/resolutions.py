"""How accounts settles its action items: "reconnect" checks the Microsoft 365 sign-in again
and closes the item when Microsoft accepts it. Registered in `AccountsConfig.ready`."""

from __future__ import annotations

from accounts.microsoft import RECONNECT_EVENT, microsoft_access_token
from accounts.models import User
from auditing.models import ActionLog
from auditing.resolutions import ResolutionFailed, resolutions_register
from foundations.graph import MicrosoftProblem


def microsoft_reconnect_check(*, item: ActionLog, by: User) -> str:
    """Close the item if Microsoft accepts the user's saved sign-in again."""
    try:
        microsoft_access_token(user=item.user, force_refresh=True)
    except MicrosoftProblem as error:
        raise ResolutionFailed(
            f"Microsoft 365 still refuses the sign-in ({error}). Choose 'Connect Microsoft "
            f"365' on your user page or run `manage.py connect_microsoft {item.user.email}`."
        ) from None
    item.close(by=by, note="the Microsoft 365 sign-in works again")
    return "Microsoft 365 accepts the sign-in again."


def accounts_resolutions_register() -> None:
    resolutions_register(
        event_type=RECONNECT_EVENT, choices={"reconnect": microsoft_reconnect_check}
    )
