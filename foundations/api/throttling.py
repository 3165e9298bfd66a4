"""The throttle REST_FRAMEWORK names. Imports no DRF views (see the package docstring)."""

from __future__ import annotations

from rest_framework import throttling
from rest_framework.settings import api_settings


class ScopedThrottle(throttling.ScopedRateThrottle):
    """ScopedRateThrottle that reads the rates from settings when asked (not at import), so a
    change of REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] applies at once; no rate = no limit."""

    def get_rate(self) -> str | None:
        # The stubs type the rates as numbers; DRF's are "100/min" strings.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)  # type: ignore[return-value,arg-type]
