"""What the steps of an archive run share: the run itself (its configuration, clients, counts
and errors) and one record per source event on its way through the steps."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field

from accounts.models import User
from archiving.gateway import ArchiveGateway
from archiving.graph_events import SourceEvent
from archiving.models import ArchiveConfiguration, ArchiveCopy
from archiving.phrases import DateRange
from auditing.models import AuditLog
from calendars.categories import Billing
from calendars.models import Appointment, Calendar
from foundations.graph import GraphClient

ProgressCallback = Callable[[int, int], None]


class ArchiveRunError(Exception):
    """The run could not start or could not go on; the message says why."""


class ArchiveAlreadyRunning(ArchiveRunError):
    """Another run of the same configuration holds the lock."""


@dataclass
class ArchiveCounts:
    fetched: int = 0
    cancelled: int = 0
    modifications: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    copied: int = 0
    copies_updated: int = 0
    copies_unchanged: int = 0
    not_copied: int = 0
    conflicts: int = 0
    moved: int = 0
    adopted: int = 0
    source_deleted: int = 0
    locked: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class ArchiveResult:
    configuration: ArchiveConfiguration
    dates: DateRange
    counts: ArchiveCounts
    status: AuditLog.Status
    dry_run: bool = False
    audit_id: int | None = None
    correlation_id: str | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class EventWork:
    """One source event on its way through the run: read, stored, placed among overlaps,
    copied."""

    source: SourceEvent
    appointment: Appointment
    billing: Billing
    copy: ArchiveCopy | None = None  # the copy in this run's destination, once known

    @property
    def key(self) -> str:
        return self.source.id


@dataclass
class Run:
    """One archive run of one configuration, as every step sees it."""

    configuration: ArchiveConfiguration
    client: GraphClient  # the user's own mailbox
    lock_owner: str
    dry_run: bool = False
    progress: ProgressCallback | None = None
    counts: ArchiveCounts = field(default_factory=ArchiveCounts)
    errors: list[str] = field(default_factory=list)
    # Set once both calendars are resolved (mailboxes.py), before anything is written.
    source_client: GraphClient | None = None
    destination_client: GraphClient | None = None
    source: Calendar | None = None
    destination: Calendar | None = None

    @property
    def user(self) -> User:
        return self.configuration.user

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.configuration.timezone)

    def error(self, subject: str | None, error: Exception) -> None:
        """One item failed; the run goes on and ends partial."""
        self.counts.errors += 1
        self.errors.append(f"{subject!r}: {error}")

    def beat(self, done: int, total: int) -> None:
        """Called after each chunk of work: the run's lease is renewed, its progress shown."""
        self.configuration.renew_run_lock(self.lock_owner)
        if self.progress:
            self.progress(done, total)

    def gateway(self) -> ArchiveGateway:
        """The archive calendar's gateway (the destination, resolved through Graph)."""
        assert self.destination_client is not None
        assert self.destination is not None and self.destination.ms_calendar_id is not None
        return ArchiveGateway(self.destination_client, self.destination.ms_calendar_id)
