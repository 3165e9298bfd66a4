"""Outlook's request-rate limit per app and mailbox, as the fake Graph enforces it.

concepts/throttling-limits.md, "Outlook service limits", "Limits per app ID and mailbox
combination": 10,000 API requests in a 10 minute period, evaluated for each app and mailbox
(one mailbox over it does not affect another).
concepts/json-batching.md, "Batch size limitations": requests in a batch are evaluated
individually against the applicable throttling limits, and one over the limits fails with 429:
so a batch of 20 counts 20.
concepts/throttling.md: "all requests accrue against your usage limits" and Graph "continues to
log resource usage while a client is being throttled": the docs do not say a throttled request
is free, so the fake takes the stricter reading and counts it too.

The window is a sliding log of request times. A benchmark may shorten the window (a scaled
clock) and must say so; the limit itself never changes.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

REQUESTS_PER_WINDOW = 10_000
WINDOW_SECONDS = 600.0


class MailboxRequestLimit:
    def __init__(
        self,
        *,
        limit: int = REQUESTS_PER_WINDOW,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self.throttled = 0  # requests refused for this limit
        self.admitted = 0
        self._log: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def admit(self, mailbox: str) -> int | None:
        """Count one request for the mailbox: None when it may run, else the Retry-After (whole
        seconds until the oldest request in the window leaves it)."""
        with self._lock:
            now = self.clock()
            log = self._log[mailbox]
            while log and log[0] <= now - self.window:
                log.popleft()
            over = len(log) >= self.limit
            log.append(now)
            if not over:
                self.admitted += 1
                return None
            self.throttled += 1
            return max(1, math.ceil(log[0] + self.window - now))
