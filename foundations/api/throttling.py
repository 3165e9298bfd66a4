"""The throttle REST_FRAMEWORK names. Imports no DRF views (see the package docstring)."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache import cache as default_cache
from django.core.cache.backends.redis import RedisCache
from rest_framework import throttling
from rest_framework.request import Request
from rest_framework.settings import api_settings

from foundations.client_ip import request_client_ip

# DRF's sliding log (the times of the requests let through in the last `duration` seconds,
# dropped once older) kept in a Redis sorted set and decided in one atomic step. DRF reads its
# list with one cache round trip and writes it back with another: two workers that read the
# same list each let a request through and each write back a list without the other's, so
# concurrent requests could pass a limit and go uncounted. KEYS[1] the log; ARGV now,
# duration, limit, this request's member. Answers whether it is let through, how many the
# log holds and the oldest time in it (a string: Redis turns Lua numbers into integers).
_SLIDING_LOG = """
local now, duration, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - duration)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(duration * 1000))
  count = count + 1
  allowed = 1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {allowed, count, oldest[2] or false}
"""


_SCRIPT: Any = None  # redis-py's Script, run with the client of each call


class ScopedThrottle(throttling.ScopedRateThrottle):
    """ScopedRateThrottle that reads the rates from settings when asked (not at import), so a
    change of REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] applies at once; no rate = no limit.
    With the cache on Redis each decision is one atomic script (`_SLIDING_LOG`); with any
    other cache, DRF's own read and write."""

    _window: tuple[int, float | None] | None = None  # (requests in the log, the oldest)

    def get_rate(self) -> str | None:
        # The stubs type the rates as numbers; DRF's are "100/min" strings.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)  # type: ignore[return-value,arg-type]

    def get_ident(self, request: Request) -> str:
        """Anonymous callers are counted by the address the trusted-proxy settings give
        (DRF's NUM_PROXIES would be a second, different answer)."""
        return request_client_ip(request) or super().get_ident(request)

    def allow_request(self, request: Request, view: Any) -> bool:
        # ScopedRateThrottle's own steps, up to where it reads the cache.
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        # DRF's `cache` is Django's default cache, a proxy: the backend behind it decides.
        cache = caches[DEFAULT_CACHE_ALIAS] if self.cache is default_cache else self.cache
        if not isinstance(cache, RedisCache):
            return throttling.SimpleRateThrottle.allow_request(self, request, view)
        self.now = self.timer()
        key = cache.make_and_validate_key(f"{self.key}:log")
        client = cache._cache.get_client(key, write=True)  # type: ignore[attr-defined]
        global _SCRIPT
        if _SCRIPT is None:  # EVALSHA from then on; redis-py loads the script where it is missing
            _SCRIPT = client.register_script(_SLIDING_LOG)
        member = f"{self.now!r}-{secrets.token_hex(4)}"
        allowed, count, oldest = _SCRIPT(
            keys=[key],
            args=[repr(self.now), self.duration, self.num_requests, member],
            client=client,
        )
        self._window = (int(count), float(oldest) if oldest else None)
        return bool(allowed)

    def wait(self) -> float | None:
        """DRF's answer (the seconds until a request may pass, spread over those left), from
        the log's size and oldest time."""
        if self._window is None or self.duration is None or self.num_requests is None:
            return super().wait()
        count, oldest = self._window
        remaining = self.duration - (self.now - oldest) if oldest is not None else self.duration
        available = self.num_requests - count + 1
        if available <= 0:
            return None
        return remaining / float(available)
