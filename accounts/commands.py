"""The shared pieces of the management commands: finding the user a command acts for, and
turning a Microsoft failure into one clear error line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management.base import CommandError

from accounts.models import User
from foundations.graph import microsoft_problem


def user_by_email(email: str) -> User:
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise CommandError(f"No user has the email address {email}.")
    return user


@contextmanager
def microsoft_failures(prefix: str = "") -> Iterator[None]:
    """Turn a Microsoft failure a person can act on into one clear CommandError line."""
    try:
        yield
    except CommandError:
        raise
    except Exception as error:
        problem = microsoft_problem(error)
        if problem is None:
            raise
        raise CommandError(f"{prefix}{problem}") from error
