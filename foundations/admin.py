"""The ModelAdmin plumbing every app's admin uses: owner-scoped admin, read-only admin, an
audit row for every change, and the hook through which one app adds actions and read-only
fields to another app's model admin (`admin_extension_add`). The site itself is composition, in
`adminassistant/sites.py`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import Http404, HttpRequest

from foundations.admin_list import PlannedChangeListMixin
from foundations.audit import audit_change
from foundations.inputs import SafeInputAdminMixin

_ModelT = TypeVar("_ModelT", bound=Model)
# What `construct_change_message` makes: [{"changed": {"fields": [...]}}, {"added": ...}, ...].
ChangeMessage = list[dict[str, Any]]


class AuditedAdminMixin(SafeInputAdminMixin):
    """Writes an AuditLog row for every add, change and delete made in the admin."""

    def log_addition(self, request: HttpRequest, obj: Model, message: ChangeMessage) -> Any:
        entry = super().log_addition(request, obj, message)
        _audit_admin_change(request, obj, "create", message)
        return entry

    def log_change(self, request: HttpRequest, obj: Model, message: ChangeMessage) -> Any:
        entry = super().log_change(request, obj, message)
        _audit_admin_change(request, obj, "update", message)
        return entry

    def log_deletions(self, request: HttpRequest, queryset: QuerySet) -> Any:
        objects = list(queryset)
        # Django only iterates what it is given: the list spares a second query.
        entries = super().log_deletions(request, objects)  # type: ignore[arg-type]
        for obj in objects:
            _audit_admin_change(request, obj, "delete", [])
        return entries


def _audit_admin_change(
    request: HttpRequest, obj: Model, operation: str, message: ChangeMessage
) -> None:
    changed_fields = sorted(
        {name for change in message or [] for name in change.get("changed", {}).get("fields", [])}
    )
    audit_change(
        action_type="admin",
        operation=operation,
        user=request.user,
        resource_type=obj._meta.object_name,
        resource_id=obj.pk,
        message=f"{operation.capitalize()} {obj._meta.verbose_name} “{obj}” in the admin",
        details={"changed_fields": changed_fields} if changed_fields else None,
    )


@dataclass
class AdminExtension:
    """What other apps add to one model's admin: actions (after the admin's own, in the order
    added) and read-only display fields, each shown after a named field of the fieldsets.

    An action is a plain `@admin.action` function (modeladmin, request, queryset); a field is a
    plain `@admin.display` function of the object, found by its name."""

    actions: list[Callable[..., Any]] = field(default_factory=list)
    fields: list[tuple[Callable[[Any], Any], str]] = field(default_factory=list)


_EXTENSIONS: dict[str, AdminExtension] = {}


def admin_extension_add(
    model: type[Model],
    *,
    actions: list[Callable[..., Any]] | None = None,
    fields: list[tuple[Callable[[Any], Any], str]] | None = None,
) -> None:
    """Add actions and read-only fields to `model`'s admin from the app that owns them, so the
    model's own app need not import it (a lower app never imports a higher one). `fields` pairs
    each display function with the field it follows."""
    extension = _EXTENSIONS.setdefault(model._meta.label, AdminExtension())
    extension.actions += [a for a in actions or [] if a not in extension.actions]
    extension.fields += [f for f in fields or [] if f not in extension.fields]


def _extension(model: type[Model]) -> AdminExtension:
    return _EXTENSIONS.get(model._meta.label) or AdminExtension()


class OwnedModelAdmin(
    PlannedChangeListMixin, AuditedAdminMixin, admin.ModelAdmin, Generic[_ModelT]
):
    """Admin for rows that belong to a user.

    Staff members see, change and pick only their own rows; another user's object answers 404.
    Superusers see everything and choose the owner. Subclass `OwnedModelAdmin[TheModel]` so the
    methods that take an object take that model (ModelAdmin itself is not subscriptable at run
    time).
    """

    owner_field = "user"

    def __getattr__(self, name: str) -> Any:
        # The admin finds a read-only field's label and value by name on the ModelAdmin, as it
        # does for the admin's own display methods; the fields other apps add are found here.
        model = self.__dict__.get("model")
        if model is not None:
            for display, _after in _extension(model).fields:
                if display.__name__ == name:
                    return display
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if self.actions is None or IS_POPUP_VAR in request.GET:
            return actions
        added = [self.get_action(action) for action in _extension(self.model).actions]
        for function, name, description in self._filter_actions_by_permissions(request, added):
            actions[name] = (function, name, description)
        return actions

    def get_readonly_fields(self, request: HttpRequest, obj: _ModelT | None = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        added = [display.__name__ for display, _after in _extension(self.model).fields]
        return [*fields, *(name for name in added if name not in fields)]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{self.owner_field: request.user})

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> _ModelT:
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with id {object_id!r}.")
        return obj

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_staff(request) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: _ModelT | None = None) -> bool:
        return self._owns(request, obj) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_staff(request) or super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: _ModelT | None = None) -> bool:
        return self._owns(request, obj) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: _ModelT | None = None) -> bool:
        return self._owns(request, obj) or super().has_delete_permission(request, obj)

    def _owns(self, request: HttpRequest, obj: _ModelT | None) -> bool:
        if not _is_staff(request):
            return False
        return obj is None or getattr(obj, f"{self.owner_field}_id") == request.user.pk

    def get_exclude(self, request: HttpRequest, obj: _ModelT | None = None) -> Any:
        exclude = list(super().get_exclude(request, obj) or [])
        if not request.user.is_superuser:
            exclude.append(self.owner_field)
        return exclude

    def get_fieldsets(self, request: HttpRequest, obj: _ModelT | None = None) -> Any:
        fieldsets = _with_added_fields(super().get_fieldsets(request, obj), self.model)
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

    def get_form(
        self, request: HttpRequest, obj: _ModelT | None = None, change: bool = False, **kwargs: Any
    ) -> type[ModelForm]:
        form_class = super().get_form(request, obj, change, **kwargs)
        if request.user.is_superuser:
            return form_class
        owner_field = self.owner_field

        class OwnedForm(form_class):  # type: ignore[valid-type,misc]  # the admin's form, made now
            """Sets the owner before validation so model.clean() can check ownership."""

            def _post_clean(self) -> None:
                if getattr(self.instance, f"{owner_field}_id", None) is None:
                    setattr(self.instance, owner_field, request.user)
                super()._post_clean()

            def _update_errors(self, errors: ValidationError) -> None:
                # A unique owner (one billing profile per user) reports its clash on the owner,
                # which this form does not show: say it above the form instead of failing.
                by_field = getattr(errors, "error_dict", {})
                if owner_field in by_field and owner_field not in self.fields:
                    by_field.setdefault(NON_FIELD_ERRORS, []).extend(by_field.pop(owner_field))
                super()._update_errors(errors)

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

    def save_model(self, request: HttpRequest, obj: _ModelT, form: ModelForm, change: bool) -> None:
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


def _with_added_fields(
    fieldsets: Iterable[tuple[Any, Mapping[str, Any]]], model: type[Model]
) -> list[Any]:
    """The fieldsets with the fields other apps add, each after the field it follows."""
    fieldsets = [
        (name, {**options, "fields": list(options["fields"])}) for name, options in fieldsets
    ]
    for display, after in _extension(model).fields:
        present = [f for _name, options in fieldsets for f in options["fields"]]
        if display.__name__ in present:
            continue
        for _name, options in fieldsets:
            if after in options["fields"]:
                options["fields"].insert(options["fields"].index(after) + 1, display.__name__)
                break
    return fieldsets


def _without(fields: Iterable[Any], name: str) -> list[Any]:
    return [field for field in fields if field != name]


def _is_staff(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff)


def _user_label() -> str:
    return settings.AUTH_USER_MODEL
