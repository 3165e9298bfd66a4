"""Factories for the test data every area builds: users, appointments, calendars, archive jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import factory
from factory.django import DjangoModelFactory

from accounts.models import User
from archiving.models import ArchiveConfiguration, JobConfiguration
from calendars.models import Appointment

PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory[User]):
    """A staff member who can log in with PASSWORD; `superuser=True` makes an admin."""

    class Meta:
        model = User

    class Params:
        superuser = factory.Trait(is_superuser=True, role=User.Role.ADMIN)

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    is_staff = True
    role = User.Role.MEMBER

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        # The manager normalises the address, hashes the password and validates the row.
        return model_class.objects.create_user(kwargs.pop("email"), PASSWORD, **kwargs)


class AppointmentFactory(DjangoModelFactory[Appointment]):
    """An hour's "Workshop" on Thursday 8 May 2025 at 09:00 UTC unless told otherwise."""

    class Meta:
        model = Appointment

    user = factory.SubFactory(UserFactory)
    start_time = datetime(2025, 5, 8, 9, 0, tzinfo=UTC)
    end_time = factory.LazyAttribute(lambda row: row.start_time + timedelta(hours=1))
    subject = "Workshop"


class ArchiveConfigurationFactory(DjangoModelFactory[ArchiveConfiguration]):
    """The fake mailbox's Calendar archived into "Billable Archive", days counted in London."""

    class Meta:
        model = ArchiveConfiguration

    user = factory.SubFactory(UserFactory)
    name = "Daily archive"
    source_calendar_uri = "msgraph://calendars/Calendar"
    destination_calendar_uri = 'msgraph://calendars/"Billable Archive"'
    timezone = "Europe/London"


class JobConfigurationFactory(DjangoModelFactory[JobConfiguration]):
    """A daily job of its configuration's owner."""

    class Meta:
        model = JobConfiguration

    archive_configuration = factory.SubFactory(ArchiveConfigurationFactory)
    user = factory.LazyAttribute(lambda job: job.archive_configuration.user)
    schedule_type = JobConfiguration.ScheduleType.DAILY


def acme_at_nine_utc(user: User, day: int, **fields: object) -> Appointment:
    """An hour billable to Acme at 09:00 UTC on `day` May 2025."""
    fields.setdefault("customer", "Acme")
    fields.setdefault("billing_type", "billable")
    fields.setdefault("categories", ["Acme - billable"])
    fields.setdefault("subject", f"Acme {day}")
    return AppointmentFactory(user=user, start_time=datetime(2025, 5, day, 9, tzinfo=UTC), **fields)
