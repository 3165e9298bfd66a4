"""Timesheet speed, side by side in one run.

    .venv/bin/python benchmarks/timesheet.py [--repeat N] [--rows 50000]

First the documents (benchmarks/timesheet_documents.py): 100- and 1,000-row PDF/CSV/XLSX and
the bare WeasyPrint, csv.writer and openpyxl floors. Then the admin's "Export timesheet" action
code path (`timesheets.admin_exports.appointments_export`) over 50,000 appointments in a scratch
database: CSV streamed from the database with its peak memory at 10,000 and 50,000 rows, and
XLSX, each next to its bare floor. Targets: 100-row PDF <= 2 s; 1,000-row PDF <= 1.3 x floor;
50,000-row CSV <= 5 s with memory that does not grow with rows; 50,000-row XLSX <= 1.5 x floor.
"""

from __future__ import annotations

import importlib.util
import io
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = Path(tempfile.mkdtemp(prefix="timesheet-bench-"))
sys.path.insert(0, str(ROOT))

from benchmarks import seeding  # noqa: E402

# A scratch database of our own: the benchmark adds 50,000 appointments.
seeding.scratch_databases(SCRATCH)

spec = importlib.util.spec_from_file_location(
    "timesheet_documents", ROOT / "benchmarks" / "timesheet_documents.py"
)
documents = importlib.util.module_from_spec(spec)
spec.loader.exec_module(documents)  # sets Django up

from django.test import RequestFactory  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from accounts.models import User  # noqa: E402
from calendars.models import Appointment  # noqa: E402
from timesheets.admin_exports import appointments_export  # noqa: E402
from timesheets.models import BillingProfile  # noqa: E402


def seed(user: User, count: int) -> None:
    seeding.appointments_seed(user, count, start=datetime(2025, 1, 1, 8, tzinfo=UTC))


def export(user: User, count: int, fmt: str, *, trace: bool = False) -> tuple[float, int, int]:
    """Seconds, bytes and (when traced, which slows Python down) peak memory of the admin
    action's export of `count` rows."""
    request = RequestFactory().post("/admin/calendars/appointment/")
    request.user = user
    selected = Appointment.objects.filter(user=user, pk__lte=first_pk(user) + count - 1)
    if trace:
        tracemalloc.start()
    began = time.perf_counter()
    response = appointments_export(request=request, appointments=selected, fmt=fmt)
    size = sum(len(chunk) for chunk in response) if response.streaming else len(response.content)
    seconds = time.perf_counter() - began
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    return seconds, size, peak


def bare_xlsx_from_database(user: User) -> bytes:
    """The floor: the cheapest read of the same rows, appended to an openpyxl write-only sheet."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Effort")
    sheet.append(documents.HEADERS)
    rows = (
        Appointment.objects.filter(user=user)
        .order_by("start_time", "pk")
        .values_list("start_time", "end_time", "subject", "categories")
    )
    for start, end, subject, categories in rows.iterator(chunk_size=2000):
        hours = (end - start).total_seconds() / 3600
        # Rate and amount columns, as the priced export writes them.
        sheet.append(
            [
                start.date(),
                start.time(),
                hours,
                hours,
                120.0,
                hours * 120,
                subject,
                ", ".join(categories),
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def first_pk(user: User) -> int:
    return Appointment.objects.filter(user=user).order_by("pk").values_list("pk", flat=True)[0]


def main() -> None:
    rows = 50_000
    if "--rows" in sys.argv:
        rows = int(sys.argv[sys.argv.index("--rows") + 1])
        del sys.argv[sys.argv.index("--rows") : sys.argv.index("--rows") + 2]
    documents.main()

    print(f"\nThe admin's export action over {rows:,} appointments (scratch SQLite database)")
    seeding.django_start()
    user = User.objects.create_user("bench@example.com", "bench-password-123", name="Bench")
    # Priced: the exports carry the Rate and Amount columns (a default rate of 120 GBP an hour).
    BillingProfile.objects.create(user=user, currency="GBP", hourly_rate=120)
    seed(user, rows)

    small = min(10_000, rows)
    _, _, small_peak = export(user, small, "csv", trace=True)
    _, _, csv_peak = export(user, rows, "csv", trace=True)
    csv_seconds, csv_bytes, _ = export(user, rows, "csv")
    floor_began = time.perf_counter()
    documents.bare_csv(rows)
    csv_floor = time.perf_counter() - floor_began
    print(
        f"  CSV  {rows:,} rows: {csv_seconds:.2f} s, {csv_bytes / 1e6:.1f} MB streamed "
        f"(target <= 5 s: {documents.verdict(csv_seconds <= 5)}); bare csv.writer {csv_floor:.2f} s"
    )
    print(
        f"       peak memory {small:,} rows {small_peak / 1024:.0f} KiB, {rows:,} rows "
        f"{csv_peak / 1024:.0f} KiB ({documents.verdict(csv_peak <= small_peak * 1.5)}: "
        "does not grow with rows)"
    )

    xlsx_seconds, _, _ = export(user, rows, "xlsx")
    floor_began = time.perf_counter()
    bare_xlsx_from_database(user)
    xlsx_floor = time.perf_counter() - floor_began
    ratio = xlsx_seconds / xlsx_floor
    print(
        f"  XLSX {rows:,} rows: {xlsx_seconds:.2f} s; bare values_list + openpyxl write-only "
        f"{xlsx_floor:.2f} s; "
        f"ratio {ratio:.2f} (target <= 1.5: {documents.verdict(ratio <= 1.5)})"
    )


if __name__ == "__main__":
    main()
