from __future__ import annotations

from django.http import HttpRequest

from accounts.microsoft import microsoft_configured


def microsoft(request: HttpRequest) -> dict[str, bool]:
    return {"microsoft_configured": microsoft_configured()}
