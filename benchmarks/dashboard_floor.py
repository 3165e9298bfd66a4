"""The admin home page's floor: one definition, read by benchmarks/dashboard.py and by the admin
part of benchmarks/api.py (benchmarks/admin_pages.py).

The page's figures are priced from one ORM aggregate per panel: `hours_groups` (the billable
appointments counted in groups that bill alike, with their first and last start) of this
month's appointments and of the unbilled ones, the querysets the page itself builds. The floor
runs exactly those two aggregates and reads their rows, pricing nothing and rendering nothing:
what the figures cost to count. (A customer whose rates cap a day also has its rows read one by
one; the benchmarks' customers have no cap, so the page makes no such read.)
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
