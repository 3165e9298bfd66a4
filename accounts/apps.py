from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Users"

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from accounts import checks  # noqa: F401 - registers the system checks
        from accounts.resolutions import accounts_resolutions_register

        # The action log (auditing, below accounts) offers "reconnect" without importing us.
        accounts_resolutions_register()

        # django-axes decides a lockout inside its backend; its signal is the only place to
        # hear of it.
        user_locked_out.connect(_audit_lockout, dispatch_uid="accounts.audit_lockout")


def _audit_lockout(
    sender: Any, request: Any, username: str, ip_address: str, **kwargs: Any
) -> None:
    from accounts.services import login_lockout_audit

    login_lockout_audit(username=username, ip_address=ip_address)
