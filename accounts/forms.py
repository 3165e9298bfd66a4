from __future__ import annotations

from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm

from accounts.models import User


class UserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "name", "role", "timezone"]


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
