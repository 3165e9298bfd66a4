"""HTTP sessions for Microsoft's services: the system trust store (or a named CA bundle), no
proxy variables, a timeout on every request, and the retry policy (backoff, Retry-After and the
run's retry budget)."""

from __future__ import annotations

import email.utils
import random
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass
class RequestPace:
    """Outlook's request rate, kept on our side: concepts/throttling-limits.md allows 10,000
    requests in 10 minutes per app and mailbox, and concepts/json-batching.md counts each
    request of a batch against it. A request that would pass the limit waits here until the
    oldest one leaves the window, instead of going out to come back 429 (which, per
    concepts/throttling.md, would still count). A request is stamped when its answer is back,
    never earlier than Graph counted it. Another process writing to the same mailbox can still
    meet Graph's 429, which the retries handle."""

    limit: int = 10_000
    window: float = 600.0
    now: Callable[[], float] = time.monotonic
    waited: float = 0.0
    _sent: dict[str, deque[float]] = field(default_factory=dict)
    _in_flight: dict[str, int] = field(default_factory=dict)
    _turn: threading.Condition = field(default_factory=threading.Condition)

    def reserve(self, mailbox: str, count: int = 1) -> None:
        """Wait until `count` more requests to the mailbox fit in the window; hold them."""
        count = min(count, self.limit)
        with self._turn:
            sent = self._sent.setdefault(mailbox, deque())
            while True:
                now = self.now()
                while sent and sent[0] <= now - self.window:
                    sent.popleft()
                in_flight = self._in_flight.get(mailbox, 0)
                over = len(sent) + in_flight + count - self.limit
                if over <= 0:
                    self._in_flight[mailbox] = in_flight + count
                    return
                # The oldest `over` stamps must leave; held ones wake us when they are stamped.
                wait = sent[over - 1] + self.window - now if over <= len(sent) else self.window
                began = self.now()
                self._turn.wait(max(wait, 0.001))
                self.waited += self.now() - began

    def done(self, mailbox: str, count: int = 1) -> None:
        """Stamp requests held by `reserve` now that their answer is back."""
        count = min(count, self.limit)
        with self._turn:
            self._in_flight[mailbox] -= count
            self._sent.setdefault(mailbox, deque()).extend([self.now()] * count)
            self._turn.notify_all()
