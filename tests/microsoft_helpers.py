"""Helpers for tests that speak to the fake Microsoft: a user connected the way "Sign in with
Microsoft" does, and a sleep that records the waits the retries ask for."""

from __future__ import annotations

from accounts.microsoft import (
    UserTokenCache,
    microsoft_connect_complete,
    microsoft_scopes,
    msal_app,
)
from accounts.models import User
from tests.fakes.microsoft import FakeMicrosoft


def connect_microsoft(fake: FakeMicrosoft, user: User) -> User:
    """Connect a user the way "Sign in with Microsoft" does: seed msal from a refresh token."""
    cache = UserTokenCache()
    answer = fake.sign_in(user.email, tuple(microsoft_scopes()))
    result = msal_app(cache).acquire_token_by_refresh_token(
        answer["refresh_token"], scopes=microsoft_scopes()
    )
    microsoft_connect_complete(user=user, cache=cache, result=result)
    user.refresh_from_db()
    return user


class RecordedSleep:
    """An injectable sleep: records the waits asked for instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
