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
from django.db.models import Min, Q

from timesheets.models import XeroBudgetLock, XeroCallSlot

DAY = 86400.0
# A slot counts until a second past Xero's window measured from when its answer came back: Xero
# counted the call at some moment before that, so it has surely left Xero's window by then.
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
            XeroCallSlot.objects.filter(started__lt=now - DAY - STALE).delete()
            everyone = XeroCallSlot.objects.all()
            mine = everyone.filter(tenant_id=tenant_id)
            in_progress = mine.filter(finished__isnull=True, started__gt=now - STALE)
            checks = (
                ("day", mine, self.limits.day, DAY),
                ("appminute", everyone, self.limits.app_minute, 60.0),
                ("minute", mine, self.limits.minute, 60.0),
            )
            for problem, slots, limit, span in checks:
                # Xero counted each call at some moment before its answer came back: a call
                # leaves Xero's window `span` after it finished (one still in flight counts).
                counted = slots.filter(
                    Q(finished__gt=now - span - MARGIN)
                    | Q(finished__isnull=True, started__gt=now - span - STALE)
                )
                if counted.count() >= limit:
                    oldest = counted.aggregate(first=Min("finished"))["first"]
                    if oldest is None:  # all in flight: one will finish soon
                        return None, problem, 0.2
                    return None, problem, max(oldest + span + MARGIN - now, 0.05)
            if in_progress.count() >= self.limits.concurrent:
                return None, "concurrent", 0.2
            return XeroCallSlot.objects.create(tenant_id=tenant_id, started=now).pk, "", 0.0
