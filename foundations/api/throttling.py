"""The throttle REST_FRAMEWORK names. Imports no DRF views (see the package docstring)."""

from __future__ import annotations

from rest_framework import throttling
from rest_framework.request import Request
from rest_framework.settings import api_settings

from foundations.client_ip import request_client_ip


class ScopedThrottle(throttling.ScopedRateThrottle):
    """ScopedRateThrottle that reads the rates from settings when asked (not at import), so a
    change of REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] applies at once; no rate = no limit."""

    def get_rate(self) -> str | None:
        # The stubs type the rates as numbers; DRF's are "100/min" strings.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)  # type: ignore[return-value,arg-type]

    def get_ident(self, request: Request) -> str:
        """Anonymous callers are counted by the address the trusted-proxy settings give
        (DRF's NUM_PROXIES would be a second, different answer)."""
        return request_client_ip(request) or super().get_ident(request)
