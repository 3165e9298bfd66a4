"""Timesheet documents: the PDF a customer reads, and CSV and XLSX with its rows and totals.

Alice Archer bills Acme Corporation Ltd for May 2025: twelve effort rows (one private) and two
train journeys. No database: the documents are rendered from billing's pure `TimesheetData`.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from pypdf import PdfReader

from timesheets.billing import BillableItem, TimesheetData, timesheet_rows
from timesheets.documents import (
    csv_stream,
    csv_totals,
    file_name,
    local_url_fetcher,
    overall_totals,
    render_csv,
    render_pdf,
    render_xlsx,
    zip_files,
)

CENT = Decimal("0.01")
PRIVATE_SUBJECT = "Dentist: root canal"
PRIVATE_LOCATION = "Harley Street clinic"
# Effort (hours) of each of the twelve May appointments: 29 1/2 in all, 27 of them billable.
EFFORT_HOURS = ("3", "2.5", "1", "4", "0.5", "2", "3.5", "1.5", "2.75", "2.25", "4", "2.5")
NON_BILLABLE = {2, 7}
PRIVATE = 4
SUBJECTS = (
    "Kick-off workshop",
    "Requirements review",
    "Internal sync",
    "Data model design",
    PRIVATE_SUBJECT,
    "Migration dry run",
    "Steering committee",
    "Team lunch and learn",
    "Cutover planning",
    "Go-live support",
    "Hypercare",
    "Retrospective",
)


def appointment(n: int, start: datetime, hours: str, **fields: Any) -> BillableItem:
    return BillableItem(
        key=n,
        start=start,
        end=start + timedelta(hours=float(hours)),
        subject=fields.pop("subject", f"Appointment {n}"),
        **fields,
    )


def may_appointments(count: int = 12) -> list[BillableItem]:
    items = []
    for n in range(count):
        # London is on summer time in May: 08:00 UTC is 09:00 there, 12:30 UTC is 13:30.
        start = datetime(2025, 5, 1 + n % 30, 8 if n % 2 else 12, 0 if n % 2 else 30, tzinfo=UTC)
        private = n % 12 == PRIVATE
        items.append(
            appointment(
                n,
                start,
                EFFORT_HOURS[n % 12],
                subject=SUBJECTS[n % 12] if count == 12 else f"{SUBJECTS[n % 12]} {n}",
                categories=("Acme", "Consulting"),
                location=PRIVATE_LOCATION if private else "Acme HQ",
                billing_type="non-billable" if n % 12 in NON_BILLABLE else "billable",
                is_private=private,
                comments="Slides sent" if n == 0 else "",
            )
        )
    return items


def train_journeys() -> list[BillableItem]:
    return [
        appointment(
            100,
            datetime(2025, 5, 6, 6, 0, tzinfo=UTC),
            "1.5",
            subject="Train to Manchester",
            is_travel=True,
            categories=("Acme", "Travel"),
        ),
        appointment(
            101,
            datetime(2025, 5, 6, 17, 0, tzinfo=UTC),
            "1",
            subject="Train back to London",
            is_travel=True,
            categories=("Acme", "Travel"),
        ),
    ]


def timesheet(items: list[BillableItem]) -> TimesheetData:
    effort, travel = timesheet_rows(items, timezone="Europe/London")
    return TimesheetData(
        customer="acme",
        customer_display_name="Acme Corporation Ltd",
        consultant="Alice Archer",
        report_date=date(2025, 6, 2),
        start_date=date(2025, 5, 1),
        end_date=date(2025, 5, 31),
        effort_rows=effort,
        travel_rows=travel,
    )


@pytest.fixture(scope="module")
def may() -> TimesheetData:
    return timesheet(may_appointments() + train_journeys())


@pytest.fixture(scope="module")
def may_pdf(may: TimesheetData) -> PdfReader:
    return PdfReader(io.BytesIO(render_pdf(may)))


@pytest.fixture(scope="module")
def may_text(may_pdf: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in may_pdf.pages)


# -- reading the documents back ---------------------------------------------------------------

HOURS = r"\d+ \d/\d|\d/\d|\d+\.\d+|\d+"
ROW = re.compile(rf"^(\d\d-[A-Z][a-z]{{2}}-\d\d) (\d\d:\d\d) ({HOURS}) ({HOURS})(?: |$)", re.M)
TOTAL = re.compile(rf"^Total ({HOURS}) hrs ({HOURS}) hrs$", re.M)
TRAVEL_HEADER = "Date Time Duration Billable Notes Categories"


def hours(text: str) -> Decimal:
    """`1 1/2`, `3/4`, `0.33` or `2` as a number of hours."""
    whole, _, fraction = text.rpartition(" ") if "/" in text else (text, "", "")
    value = Decimal(whole or 0)
    if fraction:
        numerator, denominator = fraction.split("/")
        value += Decimal(numerator) / Decimal(denominator)
    return value.quantize(CENT)


Row = tuple[date, time, Decimal, Decimal]


def pdf_tables(text: str) -> tuple[list[Row], list[Row], list[tuple[Decimal, Decimal]]]:
    """The effort rows, the travel rows and the Total rows as the PDF shows them."""
    effort_text, _, travel_text = text.partition(TRAVEL_HEADER)

    def rows(part: str) -> list[Row]:
        return [
            (
                datetime.strptime(day, "%d-%b-%y").date(),
                time.fromisoformat(clock),
                hours(effort),
                hours(billable),
            )
            for day, clock, effort, billable in ROW.findall(part)
        ]

    totals = [(hours(a), hours(b)) for a, b in TOTAL.findall(text)]
    return rows(effort_text), rows(travel_text), totals


def csv_tables(content: bytes) -> list[list[list[str]]]:
    """The tables of a CSV file: runs of rows separated by a blank line."""
    tables: list[list[list[str]]] = [[]]
    for row in csv.reader(io.StringIO(content.decode())):
        if row:
            tables[-1].append(row)
        else:
            tables.append([])
    return tables


def csv_values(table: list[list[str]]) -> tuple[list[Row], tuple[Decimal, Decimal]]:
    *rows, total = table[1:]
    return [
        (
            datetime.strptime(row[0], "%d-%b-%y").date(),
            time.fromisoformat(row[1]),
            Decimal(row[2]),
            Decimal(row[3]),
        )
        for row in rows
    ], (Decimal(total[2]), Decimal(total[3]))


def xlsx_values(sheet: Any) -> tuple[list[Row], tuple[Decimal, Decimal]]:
    *rows, total = list(sheet.iter_rows(min_row=2, values_only=True))

    def number(value: float) -> Decimal:
        return Decimal(str(value)).quantize(CENT)

    return [(row[0].date(), row[1], number(row[2]), number(row[3])) for row in rows], (
        number(total[2]),
        number(total[3]),
    )


def workbook(content: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(content))


# -- the PDF ----------------------------------------------------------------------------------


def test_pdf_pages_are_a4_landscape(may_pdf: PdfReader) -> None:
    for page in may_pdf.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width), round(height)) == (842, 595)


def test_pdf_heads_the_timesheet_with_customer_consultant_and_long_dates(may_text: str) -> None:
    assert may_text.startswith("TIMESHEET\n")
    assert "Customer Acme Corporation Ltd" in may_text
    assert "Consultant Alice Archer" in may_text
    assert "Start date Thursday, 1 May 2025" in may_text
    assert "End date Saturday, 31 May 2025" in may_text
    assert "Report date Monday, 2 June 2025" in may_text


def test_pdf_lists_every_row_with_its_date_local_time_and_subject(
    may: TimesheetData, may_text: str
) -> None:
    lines = may_text.splitlines()
    for row in may.effort_rows:
        assert any(
            line.startswith(f"{row.date:%d-%b-%y} {row.time:%H:%M} ") and row.subject in line
            for line in lines
        ), row
    for row in may.travel_rows:
        assert any(
            line.startswith(f"{row.date:%d-%b-%y} {row.time:%H:%M} ") and row.notes in line
            for line in lines
        ), row
    assert "01-May-25 13:30 3.00 3.00 Kick-off workshop" in may_text


def test_pdf_rows_keep_the_given_order(may: TimesheetData, may_text: str) -> None:
    effort, travel, _ = pdf_tables(may_text)
    assert [(row[0], row[1]) for row in effort] == [(row.date, row.time) for row in may.effort_rows]
    assert [(row[0], row[1]) for row in travel] == [(row.date, row.time) for row in may.travel_rows]


def test_pdf_totals_print_as_decimal_hours_to_two_places(may_text: str) -> None:
    assert "Total 29.50 hrs 27.00 hrs" in may_text
    assert "Total 2.50 hrs 1.25 hrs" in may_text


def test_pdf_footer_says_confidential_and_page_of_pages(may_pdf: PdfReader) -> None:
    count = len(may_pdf.pages)
    for number, page in enumerate(may_pdf.pages, start=1):
        assert page.extract_text().rstrip().endswith(f"Confidential {number}/{count}")


def test_private_appointment_prints_as_private_in_every_format(
    may: TimesheetData, may_text: str
) -> None:
    assert "Private appointment" in may_text
    xlsx_text = " ".join(
        str(value)
        for sheet in workbook(render_xlsx(may)).worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
    )
    for text in (may_text, render_csv(may).decode(), xlsx_text):
        assert PRIVATE_SUBJECT not in text
        assert PRIVATE_LOCATION not in text
    assert "Private appointment" in render_csv(may).decode()


@pytest.mark.slow
def test_long_pdf_repeats_the_header_row_and_numbers_every_page() -> None:
    long_timesheet = timesheet(may_appointments(120))
    reader = PdfReader(io.BytesIO(render_pdf(long_timesheet)))
    count = len(reader.pages)
    assert count >= 2
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert "Date Time Effort Billable Subject Categories Location Comments" in text
        assert text.rstrip().endswith(f"Confidential {number}/{count}")
    effort, _, _ = pdf_tables("\n".join(page.extract_text() for page in reader.pages))
    assert len(effort) == 120


def test_pdf_is_rendered_without_fetching_from_the_network() -> None:
    fetcher = local_url_fetcher()
    with pytest.raises(ValueError, match="disallowed protocol"):
        fetcher.fetch("https://fonts.example.com/font.woff2")


# -- CSV and XLSX carry the PDF's rows and totals ------------------------------------------


def test_csv_rows_and_totals_equal_the_pdfs(may: TimesheetData, may_text: str) -> None:
    pdf_effort, pdf_travel, pdf_totals = pdf_tables(may_text)
    effort_table, travel_table, overall = csv_tables(render_csv(may))
    assert overall == [["Billable total (hours)", "28.25"]]
    assert effort_table[0] == [
        "Date",
        "Time",
        "Effort",
        "Billable",
        "Subject",
        "Categories",
        "Location",
        "Comments",
    ]
    assert travel_table[0] == ["Date", "Time", "Duration", "Billable", "Notes", "Categories"]
    assert csv_values(effort_table) == (pdf_effort, pdf_totals[0])
    assert csv_values(travel_table) == (pdf_travel, pdf_totals[1])
    assert effort_table[1] == [
        "01-May-25",
        "13:30",
        "3.00",
        "3.00",
        "Kick-off workshop",
        "Acme, Consulting",
        "Acme HQ",
        "Slides sent",
    ]


def test_xlsx_rows_and_totals_equal_the_pdfs(may: TimesheetData, may_text: str) -> None:
    pdf_effort, pdf_travel, pdf_totals = pdf_tables(may_text)
    book = workbook(render_xlsx(may))
    assert book.sheetnames == ["Effort", "Travel", "Totals"]
    assert xlsx_values(book["Effort"]) == (pdf_effort, pdf_totals[0])
    assert xlsx_values(book["Travel"]) == (pdf_travel, pdf_totals[1])


def test_xlsx_cells_are_typed_with_a_bold_header_and_total(may: TimesheetData) -> None:
    sheet = workbook(render_xlsx(may))["Effort"]
    header, first, *_, total = list(sheet.iter_rows())
    assert [cell.value for cell in header][:4] == ["Date", "Time", "Effort", "Billable"]
    assert all(cell.font.bold for cell in header)
    day, clock, effort, billable = first[:4]
    assert day.is_date and day.value == datetime(2025, 5, 1)
    assert day.number_format == "dd-mmm-yy"
    assert clock.value == time(13, 30) and clock.number_format == "hh:mm"
    assert effort.data_type == "n" and effort.value == 3
    assert billable.data_type == "n" and billable.value == 3
    assert [cell.value for cell in total][:4] == ["Total", None, 29.5, 27]
    assert all(cell.font.bold for cell in total[:4])


def test_xlsx_keeps_a_formula_like_subject_as_text() -> None:
    data = timesheet([appointment(1, datetime(2025, 5, 8, 8, tzinfo=UTC), "1", subject="=1+1")])
    cell = workbook(render_xlsx(data))["Effort"]["E2"]
    assert (cell.value, cell.data_type) == ("=1+1", "s")


def test_travel_table_is_left_out_when_there_was_no_travel() -> None:
    data = timesheet(may_appointments())
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(render_pdf(data))).pages)
    assert TRAVEL_HEADER not in text
    assert "\nTravel\n" not in text
    assert len(csv_tables(render_csv(data))) == 2  # the effort table, the overall totals
    assert workbook(render_xlsx(data)).sheetnames == ["Effort", "Totals"]


# -- streaming, zips and names ------------------------------------------------------------------


def test_csv_stream_yields_the_same_tables_as_render_csv(may: TimesheetData) -> None:
    def once(rows: list[Any]) -> Iterator[Any]:
        yield from rows  # a generator: the stream must read its rows once

    streamed = (
        b"".join(csv_stream(once(may.effort_rows), kind="effort"))
        + b"\r\n"
        + b"".join(csv_stream(once(may.travel_rows), kind="travel"))
        + csv_totals(overall_totals(may))
    )
    assert streamed == render_csv(may)


def test_csv_stream_sends_a_large_export_in_chunks() -> None:
    data = timesheet(may_appointments(1200))
    chunks = list(csv_stream(iter(data.effort_rows), kind="effort"))
    assert len(chunks) > 1
    assert b"".join(chunks) + csv_totals(overall_totals(data)) == render_csv(data)


def test_zip_files_round_trips_several_documents(may: TimesheetData) -> None:
    files = {file_name(may, "csv"): render_csv(may), "Bob timesheet for Beta 31 May 25.csv": b"x"}
    with zipfile.ZipFile(io.BytesIO(zip_files(files))) as archive:
        assert {name: archive.read(name) for name in archive.namelist()} == files


def test_file_names_are_the_timesheet_stem_and_format(may: TimesheetData) -> None:
    assert file_name(may, "pdf") == "Alice Archer timesheet for Acme Corporation Ltd 31 May 25.pdf"
    assert file_name(may, "xlsx").endswith("31 May 25.xlsx")
