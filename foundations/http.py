"""HTTP sessions for Microsoft's services: the system trust store (or a named CA bundle), no
proxy variables, a timeout on every request, and the retry policy (backoff, Retry-After and the
run's retry budget)."""

from __future__ import annotations

import email.utils
import random
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import requests

from foundations.graph_errors import GraphRetryBudgetExceeded


@dataclass
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.time
    random: Callable[[], float] = random.random
    # Seconds of waiting one run may spend on retries in all (None: no limit). Retry-After is
    # honoured as sent (concepts/throttling-limits.md), so a long one ends the run instead.
    budget: float | None = None
    waited: float = 0.0

    def wait(self, seconds: float, context: str) -> None:
        """Sleep before a retry, or stop the run when the budget would be exceeded."""
        if self.budget is not None and self.waited + seconds > self.budget:
            raise GraphRetryBudgetExceeded(
                f"{context}: Microsoft asked to wait {seconds:.0f} s more, beyond this run's "
                f"retry budget of {self.budget:.0f} s (MS_RETRY_BUDGET). Nothing is lost: run it "
                "again later and it carries on where it stopped.",
                status=429,
            )
        self.waited += seconds
        self.sleep(seconds)

    def backoff(self, attempt: int) -> float:
        """Capped exponential backoff with jitter for attempt 1, 2, ..."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return ceiling / 2 + ceiling / 2 * self.random()

    def retry_after(self, value: str | None) -> float | None:
        """Seconds to wait from a Retry-After header (seconds or an HTTP date), as sent."""
        if not value:
            return None
        value = value.strip()
        try:
            seconds = float(value)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            seconds = when.timestamp() - self.now()
        return max(seconds, 0.0)


DEFAULT_TIMEOUT = (10.0, 60.0)


class TimeoutSession(requests.Session):
    """A session whose every request has a (connect, read) timeout unless the caller sets one.

    msal and allauth call `session.get`/`post` without a timeout; requests would then wait
    for ever on a stalled endpoint.
    """

    def __init__(self, timeout: tuple[float, float] = DEFAULT_TIMEOUT) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().request(method, url, *args, **kwargs)


def http_session(
    *,
    ca_bundle: str | None = None,
    pool_size: int = 10,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
) -> requests.Session:
    """A session that trusts the system store, or `ca_bundle`, ignores proxy env vars and
    times out every request (connect, read) that sets no timeout of its own."""
    session = TimeoutSession(timeout)
    session.trust_env = False
    session.verify = ca_bundle or _system_ca_bundle()
    adapter = requests.adapters.HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _system_ca_bundle() -> str | bool:
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).exists():
            return candidate
    return True
