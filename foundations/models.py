"""Abstract models and querysets shared by the apps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.db import models
from django.db.models.functions import Now

if TYPE_CHECKING:
    # AUTH_USER_MODEL as django-stubs resolves it: the foundations import no app.
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.auth.models import _User as User


class OwnedQuerySet(models.QuerySet):
    owner_lookup = "user"  # the path from a row to the user who owns it

    def for_user(self, user: User | AnonymousUser | None) -> Self:
        """Rows the user may see: their own, or everything for a superuser."""
        if getattr(user, "is_superuser", False):
            return self
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(**{self.owner_lookup: user})


class Timestamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        abstract = True
