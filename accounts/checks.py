from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register


@register()
def microsoft_settings_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    missing = [name for name in ("MS_CLIENT_ID", "MS_CLIENT_SECRET") if not getattr(settings, name)]
    if not missing:
        return []
    return [
        Warning(
            f"Microsoft 365 is not configured ({', '.join(missing)} unset): connecting "
            "calendars, archiving and OneDrive uploads will not work.",
            hint="Register an app in Microsoft Entra ID and set MS_CLIENT_ID, MS_CLIENT_SECRET "
            "and MS_TENANT_ID (see the README).",
            id="accounts.W001",
        )
    ]
