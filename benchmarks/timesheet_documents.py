"""Timesheet document speed: PDF, CSV and XLSX next to bare WeasyPrint, csv.writer and openpyxl.

    .venv/bin/python benchmarks/timesheet_documents.py [--repeat N]

Prints, side by side, 100- and 1,000-row PDF/CSV/XLSX timings; the 1,000 rows rendered by bare
WeasyPrint from a minimal HTML table (the floor); 50,000 rows of CSV through `csv_stream` next to
a bare `csv.writer`, with peak memory at 10,000 and 50,000 rows; and 50,000 rows of XLSX through
`render_xlsx` next to a bare openpyxl write-only export. Each figure is the best of N runs (the
machine is shared: the best run is the one least disturbed), floors and renderers interleaved.
Targets: 100-row PDF <= 2 s; 1,000-row PDF <= 1.3 x floor; 50,000-row CSV <= 5 s with flat
memory; 50,000-row XLSX <= 1.5 x floor.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import logging
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from datetime import time as clock
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import seeding

seeding.django_start(migrate=False)  # renders documents only: no database
# WeasyPrint logs each rendering step at INFO; the figures are what this script prints.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

import tablib  # noqa: E402
from openpyxl import Workbook  # noqa: E402
from weasyprint import HTML  # noqa: E402

from timesheets.billing import (  # noqa: E402
    EffortRow,
    Pricing,
    TimesheetData,
    TravelRow,
    format_short_date,
    line_amount,
)
from timesheets.documents import csv_stream, render_csv, render_pdf, render_xlsx  # noqa: E402
from timesheets.resources import CENT, effort_dataset  # noqa: E402

SUBJECTS = (
    "Quarterly planning workshop with the finance team",
    "Data migration review",
    "Weekly status call",
    "Architecture session for the customer portal and its SAP integration",
    "Code review",
    "Steering committee",
)
LOCATIONS = ("Acme HQ, Meeting room 4.12", "Microsoft Teams Meeting", "", "Manchester office")
HEADERS = (
    "Date",
    "Time",
    "Effort",
    "Billable",
    "Rate",
    "Amount",
    "Subject",
    "Categories",
    "Location",
    "Comments",
)
# Priced at 120.00 GBP an hour: the documents carry the Rate and Amount columns.
RATE = Decimal("120.00")
PRICING = Pricing(currency="GBP", hourly_rate=RATE)


def effort_row(n: int) -> EffortRow:
    day = date(2025, 1, 1) + timedelta(days=n // 12 % 365)
    hours = Decimal(15 * (1 + n % 12)) / 60
    billable = hours if n % 4 else Decimal(0)
    return EffortRow(
        key=n,
        date=day,
        time=clock(8 + n % 10, 15 * (n % 4)),
        effort=hours,
        billable=billable,
        subject=f"{SUBJECTS[n % len(SUBJECTS)]} #{n}",
        categories="Acme, Consulting" if n % 2 else "Acme",
        location=LOCATIONS[n % len(LOCATIONS)],
        comments="Prepared the slides; follow-up on open actions" if n % 5 == 0 else "",
        rate=RATE,
        amount=line_amount(billable, RATE, "GBP"),
    )


def effort_rows(count: int) -> Iterator[EffortRow]:
    """Made one at a time, so a streaming export's memory is its own."""
    return (effort_row(n) for n in range(count))


def timesheet(count: int) -> TimesheetData:
    travel = [
        TravelRow(
            key=100_000 + n,
            date=date(2025, 1, 2) + timedelta(days=n % 360),
            time=clock(7, 0),
            duration=Decimal("1.5"),
            billable=Decimal("0.75"),
            notes="Train to Manchester",
            categories="Acme, Travel",
            rate=RATE,
            amount=Decimal("90.00"),
        )
        for n in range(max(2, count // 50))
    ]
    return TimesheetData(
        customer="acme",
        customer_display_name="Acme Corporation Ltd",
        consultant="Alice Archer",
        report_date=date(2026, 1, 2),
        start_date=date(2025, 1, 1),
        end_date=date(2025, 12, 31),
        effort_rows=list(effort_rows(count)),
        travel_rows=travel,
        pricing=PRICING,
    )


def text_cells(row: EffortRow) -> list[str]:
    return [
        format_short_date(row.date),
        f"{row.time:%H:%M}",
        str(row.effort.quantize(CENT)),
        str(row.billable.quantize(CENT)),
        str(row.rate),
        str(row.amount),
        row.subject,
        row.categories,
        row.location,
        row.comments,
    ]


def bare_weasyprint(rows: list[EffortRow]) -> bytes:
    """The floor: the same cells in a minimal HTML table, no stylesheet."""
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in text_cells(row)) + "</tr>"
        for row in rows
    )
    head = "".join(f"<th>{name}</th>" for name in HEADERS)
    return HTML(
        string=f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    ).write_pdf()


def bare_weasyprint_same_page(rows: list[EffortRow]) -> bytes:
    """A stricter floor: the minimal table on our page size, at our font and size."""
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in text_cells(row)) + "</tr>"
        for row in rows
    )
    head = "".join(f"<th>{name}</th>" for name in HEADERS)
    style = '@page { size: A4 landscape } html { font: 8pt "DejaVu Sans" }'
    return HTML(
        string=f"<style>{style}</style><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
    ).write_pdf()


class Discard:
    def write(self, text: str) -> int:
        return len(text)


def bare_csv(count: int) -> int:
    """The floor: csv.writer over the same cells, to a sink that keeps nothing."""
    writer = csv.writer(Discard())
    writer.writerow(HEADERS)
    for row in effort_rows(count):
        writer.writerow(text_cells(row))
    return count


def streamed_csv(count: int) -> int:
    rows = effort_rows(count)
    return sum(len(chunk) for chunk in csv_stream(rows, kind="effort", pricing=PRICING))


def bare_xlsx(rows: list[EffortRow]) -> bytes:
    """The floor: openpyxl write-only, the same typed values appended as they are."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Effort")
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(
            [
                row.date,
                row.time,
                float(row.effort),
                float(row.billable),
                float(row.rate),
                float(row.amount),
                row.subject,
                row.categories,
                row.location,
                row.comments,
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def tablib_xlsx(rows: list[EffortRow]) -> bytes:
    """The road not taken: django-import-export's dataset exported by tablib."""
    dataset = effort_dataset(rows, PRICING, force_native_type=True)
    dataset.title = "Effort"
    return tablib.Databook([dataset]).export("xlsx")


def best(repeat: int, *jobs: Callable[[], Any]) -> list[float]:
    """Best wall time of each job over `repeat` rounds, the jobs interleaved in each round."""
    times = [float("inf")] * len(jobs)
    for _ in range(repeat):
        for index, job in enumerate(jobs):
            start = time.perf_counter()
            job()
            times[index] = min(times[index], time.perf_counter() - start)
    return times


def peak_memory(job: Callable[[], Any]) -> int:
    tracemalloc.start()
    job()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (best is kept)")
    repeat = parser.parse_args().repeat

    print(f"Timesheet documents (best of {repeat} runs, wall time)\n")
    print(f"{'rows':>7}  {'PDF':>8}  {'CSV':>8}  {'XLSX':>8}")
    pdf_times = {}
    for count in (100, 1000):
        data = timesheet(count)
        pdf, csv_time, xlsx = best(
            repeat, partial(render_pdf, data), partial(render_csv, data), partial(render_xlsx, data)
        )
        pdf_times[count] = pdf
        print(f"{count:>7}  {pdf:>7.2f}s  {csv_time:>7.3f}s  {xlsx:>7.3f}s")
    print(f"  100-row PDF {pdf_times[100]:.2f} s (target <= 2 s): {verdict(pdf_times[100] <= 2)}")

    data = timesheet(1000)
    effort = data.effort_rows
    ours, floor, strict = best(
        repeat,
        lambda: render_pdf(data),
        lambda: bare_weasyprint(effort),
        lambda: bare_weasyprint_same_page(effort),
    )
    print("\n1,000-row PDF next to bare WeasyPrint on a minimal 1,000-row table")
    print(f"  render_pdf                        {ours:6.2f} s")
    print(f"  floor: bare table, no stylesheet  {floor:6.2f} s   ratio {ours / floor:.2f}")
    print(f"  bare table, A4 landscape 8pt      {strict:6.2f} s   ratio {ours / strict:.2f}")
    print(
        f"  target <= 1.3 x floor: {verdict(ours <= 1.3 * floor)}"
        f" (and against the stricter floor: {verdict(ours <= 1.3 * strict)})"
    )

    count = 50_000
    streamed, bare = best(repeat, lambda: streamed_csv(count), lambda: bare_csv(count))
    print(f"\n{count:,}-row CSV")
    print(f"  csv_stream      {streamed:6.2f} s   (target <= 5 s: {verdict(streamed <= 5)})")
    print(f"  bare csv.writer {bare:6.2f} s   ratio {streamed / bare:.2f}")
    print("  peak memory (tracemalloc)      10,000 rows   50,000 rows")
    for name, job in (("csv_stream", streamed_csv), ("bare csv.writer", bare_csv)):
        small, large = peak_memory(partial(job, 10_000)), peak_memory(partial(job, 50_000))
        flat = large <= small * 1.2 + 64 * 1024
        print(
            f"  {name:<28} {small / 1024:9.0f} KiB {large / 1024:9.0f} KiB   flat: {verdict(flat)}"
        )

    data = timesheet(count)
    rows = data.effort_rows
    ours, floor = best(repeat, lambda: render_xlsx(data), lambda: bare_xlsx(rows))
    print(f"\n{count:,}-row XLSX")
    print(f"  render_xlsx                       {ours:6.2f} s")
    print(f"  floor: bare openpyxl write-only   {floor:6.2f} s   ratio {ours / floor:.2f}")
    print(f"  target <= 1.5 x floor: {verdict(ours <= 1.5 * floor)}")
    [tablib_time] = best(1, partial(tablib_xlsx, rows))
    print(f"  (tablib's own XLSX export of the resource's dataset, not used: {tablib_time:.2f} s)")


if __name__ == "__main__":
    main()
