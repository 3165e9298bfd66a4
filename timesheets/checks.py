from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register


@register()
def xero_settings_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    names = ("XERO_CLIENT_ID", "XERO_CLIENT_SECRET", "XERO_REDIRECT_URI")
    missing = [name for name in names if not getattr(settings, name, "")]
    if not missing:
        return []
    return [
        Warning(
            f"Xero is not configured ({', '.join(missing)} unset): sending timesheets to Xero "
            "will not work.",
            hint="Register an app at developer.xero.com and set XERO_CLIENT_ID, "
            "XERO_CLIENT_SECRET and XERO_REDIRECT_URI (see the README).",
            id="timesheets.W001",
        )
    ]
