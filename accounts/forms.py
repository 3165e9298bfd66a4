from __future__ import annotations

from typing import Any

from allauth.socialaccount import admin as allauth_admin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError

from accounts.models import User


class UserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "name", "role", "timezone"]


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class SocialAppForm(allauth_admin.SocialAppForm):
    """allauth's social application form, with its settings checked before the database sees
    them: the column holds a JSON object and refuses null (an empty box is null)."""

    def clean_provider(self) -> str:
        provider = self.cleaned_data["provider"]
        if provider == "microsoft":
            raise ValidationError(
                "Microsoft sign-in is configured by the MS_CLIENT_ID, MS_CLIENT_SECRET and "
                "MS_TENANT_ID settings, not here: a Microsoft application saved here is ignored."
            )
        return provider

    def clean_settings(self) -> dict[str, Any]:
        value = self.cleaned_data.get("settings")
        if value is None:
            raise ValidationError("Enter a JSON object, or {} for no settings (not empty or null).")
        if not isinstance(value, dict):
            raise ValidationError(
                f'Enter a JSON object such as {{}} or {{"tenant": "..."}}, not a '
                f"{type(value).__name__}."
            )
        return value
