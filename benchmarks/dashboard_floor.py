"""The home page's two aggregates alone, the floor of earlier rounds: benchmarks/dashboard.py
prints the page against them beside its floor (the page's reads, floor_urls.py
`admin_dashboard`).

The page's figures are priced from one ORM aggregate per panel: `hours_groups` (the billable
appointments counted in groups that bill alike, with their first and last start) of this
month's appointments and of the unbilled ones, the querysets the page itself builds. This runs
exactly those two aggregates and reads their rows, pricing nothing and rendering nothing, with
no request around them: what the figures cost to count. No admin page can come within 1.5 x of
it on PostgreSQL, where the two are an index read of about 4 ms and an admin page with nothing
on it costs more than that.
"""

from __future__ import annotations

from accounts.models import User
from adminassistant.dashboard import month_end
from foundations.days import today_in
from timesheets.selectors import hours_groups, period_appointments, unbilled_appointments


def dashboard_floor(user: User) -> int:
    """Run the home page's aggregates for `user` this month; the number of groups read."""
    first = today_in(user.timezone).replace(day=1)
    reads = [
        period_appointments(user=user, start=first, end=month_end(first)),
        unbilled_appointments(user=user),
    ]
    return sum(len(list(hours_groups(appointments))) for appointments in reads)
