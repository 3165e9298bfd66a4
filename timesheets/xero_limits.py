"""Xero's API limits as a budget shared by every worker and process.

Xero (developer.xero.com/documentation/guides/oauth2/limits) allows per organisation 60 calls
in a rolling minute, 5,000 in a rolling day and 5 in progress at once, and per app 10,000 calls
a minute across organisations; a 429 names the limit hit in `X-Rate-Limit-Problem`. Rather than
meet those 429s, every call first takes a slot here: a row in `XeroCallSlot`, counted under one
locked row (`XeroBudgetLock`) so that workers in other processes, on SQLite (IMMEDIATE
transactions) and PostgreSQL (`SELECT … FOR UPDATE`) alike, never both take the 60th slot.
A call that must wait sleeps in the worker until its slot is free; one that would wait longer
than `max_wait` (the day limit) fails with `XeroLimitReached`, and the push is retried later.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Min

from timesheets.models import XeroBudgetLock, XeroCallSlot

DAY = 86400.0
# A slot counts one second longer than Xero's window: Xero counts a call when it arrives,
# a little after the slot was taken, and must not still see it in its minute.
MARGIN = 1.0
STALE = 120.0  # a slot never finished (a worker killed mid-call) stops counting as in progress


class XeroLimitReached(Exception):
    def __init__(self, problem: str, wait: float) -> None:
        super().__init__(
            f"Xero's {problem} limit is reached: try again in {int(wait) + 1} seconds."
        )
        self.problem = problem
        self.wait = wait


@dataclass(frozen=True)
class XeroLimits:
    minute: int = 60
    day: int = 5000
    concurrent: int = 5
    app_minute: int = 10_000


@dataclass
class XeroBudget:
    """Takes and returns call slots; `clock` and `sleep` are the client's (tests fake them)."""

    limits: XeroLimits
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    max_wait: float = 90.0
    waits: int = 0
    waited: float = 0.0

    def acquire(self, tenant_id: str) -> int:
        """A slot for one call to `tenant_id` now, waiting for it if need be."""
        while True:
            slot, problem, wait = self._try(tenant_id)
            if slot is not None:
                return slot
            if wait > self.max_wait:
                raise XeroLimitReached(problem, wait)
            self.waits += 1
            self.waited += wait
            self.sleep(wait)

    def release(self, slot: int) -> None:
        XeroCallSlot.objects.filter(pk=slot).update(finished=self.clock())

    def _try(self, tenant_id: str) -> tuple[int | None, str, float]:
        XeroBudgetLock.objects.get_or_create(name="xero")
        with transaction.atomic(using="default"):
            # Counted under the lock: the row on PostgreSQL; on SQLite the IMMEDIATE
            # transaction already holds the database's write lock.
            XeroBudgetLock.objects.select_for_update().get(name="xero")
            now = self.clock()
            window = 60.0 + MARGIN
            XeroCallSlot.objects.filter(started__lt=now - DAY - MARGIN).delete()
            mine = XeroCallSlot.objects.filter(tenant_id=tenant_id)
            in_progress = mine.filter(finished__isnull=True, started__gt=now - STALE)
            checks = (
                ("day", mine.filter(started__gt=now - DAY - MARGIN), self.limits.day, DAY),
                (
                    "appminute",
                    XeroCallSlot.objects.filter(started__gt=now - window),
                    self.limits.app_minute,
                    window,
                ),
                ("minute", mine.filter(started__gt=now - window), self.limits.minute, window),
            )
            for problem, calls, limit, span in checks:
                if calls.count() >= limit:
                    oldest = calls.aggregate(first=Min("started"))["first"] or now
                    return None, problem, max(oldest + span - now, 0.05)
            if in_progress.count() >= self.limits.concurrent:
                return None, "concurrent", 0.2
            return XeroCallSlot.objects.create(tenant_id=tenant_id, started=now).pk, "", 0.0
