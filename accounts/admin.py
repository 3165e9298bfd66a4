from __future__ import annotations

from typing import Any

from allauth.socialaccount.admin import SocialAppAdmin as AllauthSocialAppAdmin
from allauth.socialaccount.models import SocialApp
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from accounts import views
from accounts.connections import user_connections
from accounts.forms import SocialAppForm, UserCreationForm, UserEditForm
from accounts.microsoft import microsoft_disconnect
from accounts.models import ApiToken, User
from accounts.services import api_tokens_revoke
from foundations.admin import AuditedAdminMixin, OwnedModelAdmin
from foundations.requests import AuthenticatedHttpRequest, authenticated


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    """Users. Token columns are never shown: only whether Microsoft 365 is connected."""

    form = UserEditForm
    add_form = UserCreationForm
    list_display = ["email", "name", "role", "is_staff", "is_active", "microsoft_connected"]
    list_filter = ["role", "is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "name"]
    ordering = ["email"]
    readonly_fields = ["last_login", "date_joined"]  # connections: the panel on top
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["name", "timezone", "profile_photo_url"]}),
        (
            "Permissions",
            {"fields": ["role", "is_active", "is_staff", "is_superuser", "groups"]},
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "name", "role", "timezone", "password1", "password2"],
            },
        ),
    ]
    filter_horizontal = ["groups"]
    actions = ["disconnect_microsoft"]

    def get_urls(self) -> list:
        return [
            path(
                "<int:user_id>/microsoft/connect/",
                self.admin_site.admin_view(views.microsoft_connect),
                name="accounts_user_microsoft_connect",
            ),
            path(
                "<int:user_id>/microsoft/disconnect/",
                self.admin_site.admin_view(require_POST(self.disconnect_view)),
                name="accounts_user_microsoft_disconnect",
            ),
            *super().get_urls(),
        ]

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm, change: bool) -> None:
        if "timezone" in form.changed_data:
            obj.timezone_chosen = True  # the mailbox's zone no longer replaces it
        super().save_model(request, obj, form, change)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        shown = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "can_connect_microsoft": request.user.is_superuser
            or str(request.user.pk) == str(object_id),
            "connections": (
                user_connections(users=[shown], viewer=authenticated(request).user)[shown.pk]
                if shown
                else []
            ),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def disconnect_view(self, request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
        user = views.connectable_user(request, user_id)
        microsoft_disconnect(user=user, by=request.user)
        messages.success(request, f"Microsoft 365 disconnected for {user.email}.")
        return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))

    @admin.action(description="Disconnect Microsoft 365")
    def disconnect_microsoft(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[User]
    ) -> None:
        users = list(queryset)
        for user in users:
            microsoft_disconnect(user=user, by=request.user)
        self.message_user(request, f"Microsoft 365 disconnected for {len(users)} user(s).")

    @admin.display(boolean=True, description="Microsoft 365 connected")
    def microsoft_connected(self, obj: User) -> bool:
        return obj.is_microsoft_connected

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk=request.user.pk)

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> User:
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(f"No user with id {object_id!r}.")
        return obj

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Staff members edit their profile, not their own powers.
            fields += ["role", "is_active", "is_staff", "is_superuser", "groups"]
        return fields

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._is_self_or_superuser(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._is_self_or_superuser(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.is_superuser

    def _is_self_or_superuser(self, request: HttpRequest, obj: Model | None) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        return user.is_superuser or obj is None or obj.pk == user.pk


@admin.register(ApiToken)
class ApiTokenAdmin(OwnedModelAdmin[ApiToken]):
    """Personal API tokens. The key is shown once, on the page after creation; only its hash is
    kept. A token is never edited: revoke it and create another."""

    list_display = [
        "name",
        "key_prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "state",
        "user",
    ]
    list_filter = ["revoked_at", "user"]
    search_fields = ["name", "key_prefix"]
    list_select_related = ["user"]
    fields = [
        "user",
        "name",
        "expires_at",
        "key_prefix",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = ["key_prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False

    @admin.display(description="State")
    def state(self, obj: ApiToken) -> str:
        if obj.is_revoked:
            return "revoked"
        return "expired" if obj.is_expired() else "active"

    def save_model(
        self, request: HttpRequest, obj: ApiToken, form: ModelForm, change: bool
    ) -> None:
        if not change:
            obj._new_key = obj.set_new_key()
        super().save_model(request, obj, form, change)

    def response_add(
        self, request: HttpRequest, obj: ApiToken, post_url_continue: str | None = None
    ) -> HttpResponse:
        key = getattr(obj, "_new_key", None)
        if key:
            messages.warning(
                request,
                f"The key of “{obj.name}” is {key} — copy it now: it is not shown again. "
                f"Send it as “Authorization: Bearer {key}”.",
                extra_tags="api-token-key",
            )
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: AuthenticatedHttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = api_tokens_revoke(tokens=queryset, by=request.user)
        self.message_user(request, f"{revoked} token(s) revoked.", messages.SUCCESS)


# allauth registered its SocialApp admin first (INSTALLED_APPS order); this one checks settings.
admin.site.unregister(SocialApp)


@admin.register(SocialApp)
class SocialAppAdmin(AllauthSocialAppAdmin):
    """allauth's social applications, with their settings validated (a form error, never a
    database error)."""

    form = SocialAppForm
