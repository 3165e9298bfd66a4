"""Sends runtime apps to the `web` database and everything else to `default`."""

from __future__ import annotations

from typing import Any

from django.db.models import Model

# Disposable runtime state. Nothing here may point at a user or any other core row.
WEB_APP_LABELS = frozenset({"sessions", "django_q", "django_cache"})
WEB_DATABASE = "web"
CORE_DATABASE = "default"


def database_for_app(app_label: str) -> str:
    return WEB_DATABASE if app_label in WEB_APP_LABELS else CORE_DATABASE


class DatabaseRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        return database_for_app(model._meta.app_label)

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return database_for_app(model._meta.app_label)

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return database_for_app(obj1._meta.app_label) == database_for_app(obj2._meta.app_label)

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool:
        return database_for_app(app_label) == db
