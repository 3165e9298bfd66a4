"""The admin site: the home page (the dashboard), the index grouped by task, and every model's
changes audited. Composition: it may import every app (the dashboard does)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, cast

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.core.signals import setting_changed
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.base import ModelBase
from django.http import HttpRequest
from django.urls import get_script_prefix
from django.utils.translation import get_language

from adminassistant.dashboard import dashboard_context
from foundations.admin import AuditedAdminMixin
from foundations.admin_apps import app_list_html
from foundations.requests import authenticated

# The index groups models by what people do, not by the app that defines them.
MODEL_GROUPS: list[tuple[str, str, list[str]]] = [
    (
        "calendar",
        "Calendar",
        ["calendars.Appointment", "calendars.Calendar", "calendars.Category", "calendars.Location"],
    ),
    (
        "billing",
        "Billing",
        [
            "timesheets.Timesheet",
            "timesheets.CustomerSettings",
            "timesheets.BillingProfile",
            "timesheets.XeroConnection",
            "timesheets.XeroPush",
            "timesheets.XeroCallSlot",
            "timesheets.XeroBudgetLock",
        ],
    ),
    (
        "archiving",
        "Archiving",
        [
            "archiving.ArchiveConfiguration",
            "archiving.JobConfiguration",
            "archiving.ArchiveCopy",
            "archiving.ArchiveRun",
        ],
    ),
    (
        "attention",
        "Attention",
        [
            "auditing.ActionLog",
            "archiving.CategoryDecision",
            "calendars.AppointmentFeature",
            "auditing.AuditLog",
        ],
    ),
    ("settings", "Settings", ["accounts.User", "accounts.ApiToken"]),
]


SYSTEM_GROUP = ("system", "System")
# Each person's list of models, as built for their last page. Every model admin of the site
# decides what a staff member or a superuser sees from who they are (active, staff,
# superuser), never from rows: a list whose building read the database (a model admin asking
# Django's permissions, say) is not kept, and is built afresh on every page. Keyed also on
# the script prefix and language its links and names are in; the site's own registry is
# fixed once the process has started. Building it was about 1.5 ms of every admin page: 30
# models, each with five permission checks and two reversed URLs.
_APP_LISTS: dict[tuple, list[dict]] = {}
APP_LISTS_KEPT = 1000
GROUPED = frozenset(member for _label, _name, members in MODEL_GROUPS for member in members)


class AdminAssistantSite(admin.AdminSite):
    site_header = "Admin Assistant"
    site_title = "Admin Assistant"
    index_title = "Back office"
    index_template = "admin/dashboard.html"

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        context = dashboard_context(authenticated(request))
        # The sections under the dashboard, as Django's index includes admin/app_list.html;
        # rendered when the template reaches them (so the page's own context comes first).
        context["app_list_html"] = lambda: app_list_html(
            self.get_app_list(request), request.path, show_changelinks=True
        )
        return super().index(request, {**context, **(extra_context or {})})

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        """Django's, with the navigation sidebar's list rendered once per distinct list (and
        only on a page that shows it: the template calls it)."""
        context = super().each_context(request)
        apps = context["available_apps"]
        context["available_apps_html"] = lambda: app_list_html(
            apps, request.path, show_changelinks=False
        )
        return context

    def get_log_entries(self, request: HttpRequest) -> QuerySet[LogEntry]:
        """The home page's "Recent actions": Django's own joined each entry's user, whose
        encrypted Microsoft tokens were decrypted for every entry. The sidebar shows only the
        viewer's own entries and reads no user."""
        return LogEntry.objects.select_related("content_type")

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        """The index's sections: our models by task; framework and third-party models only
        for superusers, under System. An app's own page (app_label) stays Django's. Built once a
        request (Django asks for it twice on every page: the page's list and
        `available_apps`) and kept for the next of the same person (`_APP_LISTS`)."""
        if app_label is not None:
            return super().get_app_list(request, app_label)
        if hasattr(request, "_grouped_app_list"):
            return request._grouped_app_list
        user = request.user
        key: tuple = (user.pk, user.is_active, user.is_staff, user.is_superuser)
        key += (get_script_prefix(), get_language())
        groups = _APP_LISTS.get(key)
        if groups is None:
            with _reads() as read:
                groups = self._grouped_app_list(request)
            if not read:
                if len(_APP_LISTS) >= APP_LISTS_KEPT:
                    _APP_LISTS.clear()
                _APP_LISTS[key] = groups
        # Each request gets its own dicts: nothing a page does to its list reaches the next.
        mine = [{**app, "models": [dict(model) for model in app["models"]]} for app in groups]
        request._grouped_app_list = mine  # type: ignore[attr-defined]
        return mine

    def _grouped_app_list(self, request: HttpRequest) -> list[dict]:
        apps = super().get_app_list(request)
        models = {model["model"]._meta.label: model for app in apps for model in app["models"]}
        groups = []
        placed: set[str] = set()
        for label, name, members in MODEL_GROUPS:
            rows = [models[member] for member in members if member in models]
            placed.update(members)
            if rows:
                groups.append(_group(label, name, rows))
        others = [model for key, model in models.items() if key not in placed]
        if others and request.user.is_superuser:
            others.sort(
                key=lambda model: (model["model"]._meta.app_config.verbose_name, model["name"])
            )
            groups.append(_group(*SYSTEM_GROUP, others))
        return groups

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        """Register as usual, auditing every model's changes, ours or a third party's; a model
        the index does not group (framework and third-party ones) is a System model."""
        models = cast(
            list[type[Model]],
            [model_or_iterable]
            if isinstance(model_or_iterable, ModelBase)
            else list(model_or_iterable),
        )
        for model in models:
            model_admin = admin_class or admin.ModelAdmin
            mixins: list[type] = []
            if model._meta.label not in GROUPED and not issubclass(model_admin, SystemModuleMixin):
                mixins.append(SystemModuleMixin)
            if not issubclass(model_admin, AuditedAdminMixin):
                mixins.append(AuditedAdminMixin)
            if mixins:
                model_admin = type(
                    model_admin.__name__,
                    (*mixins, model_admin),
                    {"__module__": model_admin.__module__},
                )
            super().register(model, model_admin, **options)


class SystemModuleMixin:
    """A System model's admin: its section on the index and its app page are a superuser's, as
    `get_app_list` lists them. Django's own check (the user's permissions for the app) loaded a
    staff member's permissions, two queries, on every admin page, for models the index never
    shows them. Their change lists keep Django's per-model permissions."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return user.is_active and user.is_superuser and super().has_module_permission(request)  # type: ignore[misc]


def _group(label: str, name: str, models: list[dict]) -> dict:
    return {
        "name": name,
        "app_label": label,
        "app_url": "",
        "has_module_perms": True,
        "models": models,
    }


@contextmanager
def _reads() -> Iterator[list[str]]:
    """The SQL run on any database inside the block."""
    read: list[str] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        read.append(sql)
        return execute(sql, params, many, context)

    with ExitStack() as stack:
        for connection in connections.all():
            stack.enter_context(connection.execute_wrapper(record))
        yield read


def _app_lists_forget(**kwargs: Any) -> None:
    _APP_LISTS.clear()


# Tests that change the installed apps or the URL conf get lists built for them.
setting_changed.connect(_app_lists_forget)
