"""The admin site and the ModelAdmin bases every app's admin uses."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import Http404, HttpRequest

from adminassistant.inputs import SafeInputAdminMixin
from auditing.services import audit_record


class AuditedAdminMixin(SafeInputAdminMixin):
    """Writes an AuditLog row for every add, change and delete made in the admin."""

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        entry = super().log_addition(request, obj, message)
        _audit_admin_change(request, obj, "create", message)
        return entry

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        entry = super().log_change(request, obj, message)
        _audit_admin_change(request, obj, "update", message)
        return entry

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        objects = list(queryset)
        entries = super().log_deletions(request, objects)
        for obj in objects:
            _audit_admin_change(request, obj, "delete", [])
        return entries


def _audit_admin_change(request: HttpRequest, obj: Model, operation: str, message: Any) -> None:
    changed_fields = sorted(
        {name for change in message or [] for name in change.get("changed", {}).get("fields", [])}
    )
    audit_record(
        action_type="admin",
        operation=operation,
        user=request.user,
        resource_type=obj._meta.object_name,
        resource_id=obj.pk,
        message=f"{operation.capitalize()} {obj._meta.verbose_name} “{obj}” in the admin",
        details={"changed_fields": changed_fields} if changed_fields else None,
    )


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
    ("attention", "Attention", ["auditing.ActionLog", "auditing.AuditLog"]),
    ("settings", "Settings", ["accounts.User", "accounts.ApiToken"]),
]
SYSTEM_GROUP = ("system", "System")


class AdminAssistantSite(admin.AdminSite):
    site_header = "Admin Assistant"
    site_title = "Admin Assistant"
    index_title = "Back office"
    index_template = "admin/dashboard.html"

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        from adminassistant.dashboard import dashboard_context

        return super().index(request, {**dashboard_context(request), **(extra_context or {})})

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        """The index's sections: our models by task; framework and third-party models only
        for superusers, under System. An app's own page (app_label) stays Django's."""
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            return apps
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
        """Register as usual, auditing every model's changes, ours or a third party's."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedAdminMixin):
            admin_class = type(
                admin_class.__name__,
                (AuditedAdminMixin, admin_class),
                {"__module__": admin_class.__module__},
            )
        super().register(model_or_iterable, admin_class, **options)


class OwnedModelAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Admin for rows that belong to a user.

    Staff members see, change and pick only their own rows; another user's object answers 404.
    Superusers see everything and choose the owner.
    """

    owner_field = "user"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{self.owner_field: request.user})

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with id {object_id!r}.")
        return obj

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_staff(request) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._owns(request, obj) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_staff(request) or super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._owns(request, obj) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._owns(request, obj) or super().has_delete_permission(request, obj)

    def _owns(self, request: HttpRequest, obj: Model | None) -> bool:
        if not _is_staff(request):
            return False
        return obj is None or getattr(obj, f"{self.owner_field}_id") == request.user.pk

    def get_exclude(self, request: HttpRequest, obj: Model | None = None) -> Any:
        exclude = list(super().get_exclude(request, obj) or [])
        if not request.user.is_superuser:
            exclude.append(self.owner_field)
        return exclude

    def get_fieldsets(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [
            (name, {**options, "fields": _without(options["fields"], self.owner_field)})
            for name, options in fieldsets
        ]

    def get_list_display(self, request: HttpRequest) -> Any:
        columns = list(super().get_list_display(request))
        if not request.user.is_superuser and self.owner_field in columns:
            columns.remove(self.owner_field)
        return columns

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = list(super().get_list_filter(request))
        if not request.user.is_superuser and self.owner_field in filters:
            filters.remove(self.owner_field)
        return filters

    def get_form(self, request: HttpRequest, obj: Model | None = None, **kwargs: Any) -> Any:
        form_class = super().get_form(request, obj, **kwargs)
        if request.user.is_superuser:
            return form_class
        owner_field = self.owner_field

        class OwnedForm(form_class):
            """Sets the owner before validation so model.clean() can check ownership."""

            def _post_clean(self) -> None:
                if getattr(self.instance, f"{owner_field}_id", None) is None:
                    setattr(self.instance, owner_field, request.user)
                super()._post_clean()

            def _get_validation_exclusions(self) -> set[str]:
                # The owner is not on the form, yet (user, name)-style constraints need it.
                exclusions = super()._get_validation_exclusions()
                exclusions.discard(owner_field)
                return exclusions

        OwnedForm.__name__ = form_class.__name__
        return OwnedForm

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        related = db_field.related_model
        if not request.user.is_superuser:
            if related._meta.label == _user_label():
                kwargs["queryset"] = related._default_manager.filter(pk=request.user.pk)
            elif any(field.name == "user" for field in related._meta.fields):
                kwargs["queryset"] = related._default_manager.filter(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        if not request.user.is_superuser:
            setattr(obj, self.owner_field, request.user)
        super().save_model(request, obj, form, change)


class ReadOnlyAdminMixin:
    """Nobody adds, changes or deletes these rows through the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


def _group(label: str, name: str, models: list[dict]) -> dict:
    return {
        "name": name,
        "app_label": label,
        "app_url": "",
        "has_module_perms": True,
        "models": models,
    }


def _without(fields: Any, name: str) -> list[Any]:
    return [field for field in fields if field != name]


def _is_staff(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff)


def _user_label() -> str:
    from django.conf import settings

    return settings.AUTH_USER_MODEL
