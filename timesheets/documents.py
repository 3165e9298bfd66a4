"""Timesheet documents: the PDF a customer accepts, and CSV and XLSX files with its rows and totals.

Renderers take a `TimesheetData` (billing's pure result) and return bytes; nothing here reads the
database. The PDF is the `timesheets/timesheet.html` template rendered by WeasyPrint; the CSV and
XLSX columns are the django-import-export resources of `timesheets.resources`.

Hours print the one way the whole app prints them (`timesheets.billing.format_hours`):
decimal hours to two places, rows without the unit (`1.50`), totals with it (`29.50 hrs`). CSV
carries the same 2-decimal numbers, XLSX numbers formatted `0.00`. A priced timesheet adds Rate
and Amount after Billable in every format, with section totals and an overall total in the
customer's currency (Babel's formatting in the PDF); CSV and XLSX close with the same overall
totals as the PDF (`overall_totals`).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import time
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.template.loader import render_to_string
from import_export import widgets
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from timesheets.billing import (
    NO_PRICING,
    EffortRow,
    Pricing,
    TimesheetData,
    TravelRow,
    format_amount,
    format_hours,
    format_hours_number,
    format_long_date,
    format_money,
    format_short_date,
    minor_unit,
)
from timesheets.resources import (
    EffortResource,
    MoneyWidget,
    TimesheetTableResource,
    TravelResource,
    effort_dataset,
    effort_resource,
    travel_dataset,
    travel_resource,
)

TEMPLATE = "timesheets/timesheet.html"
CSV_CHUNK_ROWS = 500
XLSX_DATE_FORMAT = "dd-mmm-yy"
XLSX_TIME_FORMAT = "hh:mm"
# Excel column widths (characters) by header; other columns take WIDE_COLUMN.
XLSX_WIDTHS = {"Date": 11, "Time": 7, "Effort": 9, "Duration": 9, "Billable": 9, "Categories": 22}
MONEY_WIDTH = 13
WIDE_COLUMN = 36
BOLD = Font(bold=True)

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

RESOURCES: dict[str, type[TimesheetTableResource]] = {
    "effort": EffortResource,
    "travel": TravelResource,
}


def row_hours(hours: Decimal) -> str:
    """A row's hours as the PDF prints them: the totals' format without the unit."""
    return format_hours_number(hours)


def _clock(moment: time) -> str:
    return f"{moment:%H:%M}"


def _money(amount: Decimal | None, currency: str) -> str:
    """A priced row's rate or amount; an unpriced row has none and shows an empty cell."""
    return "" if amount is None else format_amount(amount, currency)


def timesheet_context(data: TimesheetData) -> dict[str, Any]:
    """What the template shows, formatted once here: a 1,000-row loop stays plain."""
    legal_name = data.legal_name if data.legal_name != data.customer_display_name else ""
    currency = data.currency
    priced = data.priced
    return {
        "priced": priced,
        "currency": currency,
        "data": data,
        "title": data.file_stem,
        "legal_name": legal_name,
        "report_date": format_long_date(data.report_date),
        "start_date": format_long_date(data.start_date),
        "end_date": format_long_date(data.end_date),
        "effort_rows": [
            (
                format_short_date(row.date),
                _clock(row.time),
                row_hours(row.effort),
                row_hours(row.billable),
                _money(row.rate, currency) if priced else "",
                _money(row.amount, currency) if priced else "",
                row.subject,
                row.categories,
                row.location,
                row.comments,
            )
            for row in data.effort_rows
        ],
        "effort_total": format_hours(data.effort_total),
        "effort_billable_total": format_hours(data.effort_billable_total),
        "travel_rows": [
            (
                format_short_date(row.date),
                _clock(row.time),
                row_hours(row.duration),
                row_hours(row.billable),
                _money(row.rate, currency) if priced else "",
                _money(row.amount, currency) if priced else "",
                row.notes,
                row.categories,
            )
            for row in data.travel_rows
        ],
        "travel_total": format_hours(data.travel_total),
        "travel_billable_total": format_hours(data.travel_billable_total),
        "effort_amount_total": format_money(data.effort_amount_total, currency) if priced else "",
        "travel_amount_total": format_money(data.travel_amount_total, currency) if priced else "",
        "amount_total": format_money(data.amount_total, currency) if priced else "",
        "billable_total": format_hours(data.billable_total),
    }


def local_url_fetcher() -> URLFetcher:
    """Fetches `file:` and `data:` URLs only: a timesheet never waits on, or leaks to, the web."""
    return URLFetcher(allowed_protocols={"file", "data"})


def render_html(data: TimesheetData) -> str:
    return render_to_string(TEMPLATE, timesheet_context(data))


def render_pdf(data: TimesheetData, *, base_url: str | None = None) -> bytes:
    """The timesheet as an A4 landscape PDF."""
    document = HTML(string=render_html(data), base_url=base_url, url_fetcher=local_url_fetcher())
    return document.write_pdf()


def overall_totals(data: TimesheetData, *, typed: bool = False) -> list[tuple[str, Any]]:
    """The PDF's closing figures, for CSV and XLSX: billable hours over both tables and, when
    priced, each section's amount and the amount due (the sums of the printed row amounts, so
    they equal the PDF's to the cent). `typed` gives numbers for Excel, else text."""
    return totals_rows(
        billable=data.billable_total,
        effort_amount=data.effort_amount_total,
        travel_amount=data.travel_amount_total,
        pricing=data.pricing,
        typed=typed,
    )


def totals_rows(
    *,
    billable: Decimal,
    effort_amount: Decimal,
    travel_amount: Decimal,
    pricing: Pricing,
    typed: bool = False,
) -> list[tuple[str, Any]]:
    """`overall_totals` from running sums (a streamed export never holds its rows)."""

    def money(value: Decimal) -> Any:
        amount = value.quantize(minor_unit(pricing.currency), rounding=ROUND_HALF_UP)
        return float(amount) if typed else str(amount)

    hours = float(billable) if typed else format_hours_number(billable)
    rows: list[tuple[str, Any]] = [("Billable total (hours)", hours)]
    if pricing.priced:
        currency = pricing.currency
        rows += [
            (f"Effort amount ({currency})", money(effort_amount)),
            (f"Travel amount ({currency})", money(travel_amount)),
            (f"Amount due ({currency})", money(effort_amount + travel_amount)),
        ]
    return rows


def csv_totals(rows: list[tuple[str, Any]]) -> bytes:
    """The overall totals block of a CSV file, after a blank line."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return ("\r\n" + buffer.getvalue()).encode()


def render_csv(data: TimesheetData) -> bytes:
    """The effort table, then (when there was travel) a blank line and the travel table, then a
    blank line and the overall totals (`overall_totals`).

    Each table has its header and a Total row: the PDF's rows and totals.
    """
    text = effort_dataset(data.effort_rows, data.pricing).export("csv")
    if data.travel_rows:
        text += "\r\n" + travel_dataset(data.travel_rows, data.pricing).export("csv")
    return text.encode() + csv_totals(overall_totals(data))


TABLE_RESOURCES = {"effort": effort_resource, "travel": travel_resource}


def csv_stream(
    rows: Iterable[EffortRow | TravelRow], *, kind: str, pricing: Pricing = NO_PRICING
) -> Iterator[bytes]:
    """One table of `render_csv` (`kind` is "effort" or "travel") as encoded chunks.

    Reads `rows` once and holds one chunk at a time, for a `StreamingHttpResponse` of 50,000 rows.
    """
    if kind not in RESOURCES:
        raise ValueError(f"A timesheet table is one of {', '.join(RESOURCES)}, not {kind!r}.")
    resource = TABLE_RESOURCES[kind](pricing)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for count, cells in enumerate(resource.export_rows(rows), start=1):
        writer.writerow(cells)
        if count % CSV_CHUNK_ROWS == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def render_xlsx(data: TimesheetData) -> bytes:
    """A workbook with an "Effort" sheet and, when there was travel, a "Travel" sheet.

    Cells are typed: dates (`dd-mmm-yy`) and times (`hh:mm`) are Excel dates and times, hours are
    numbers, and each sheet ends with a bold Total row of numbers. The resources give the columns
    and values; the workbook is written in openpyxl's write-only mode, as tablib's XLSX export
    keeps every cell in memory, is slower (see benchmarks/timesheet_documents.py) and cannot set
    a date format.
    """
    workbook = Workbook(write_only=True)
    workbook.properties.title = data.file_stem
    workbook.properties.creator = data.consultant
    _write_sheet(workbook, "Effort", effort_resource(data.pricing), data.effort_rows)
    if data.travel_rows:
        _write_sheet(workbook, "Travel", travel_resource(data.pricing), data.travel_rows)
    _write_totals(workbook, data)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_totals(workbook: Workbook, data: TimesheetData) -> None:
    """A "Totals" sheet: the overall figures as numbers, in bold, as the PDF closes."""
    sheet = workbook.create_sheet("Totals")
    sheet.column_dimensions["A"].width = 26
    sheet.column_dimensions["B"].width = MONEY_WIDTH
    money_format = "#,##0." + "0" * max(
        -int(minor_unit(data.currency or "GBP").as_tuple().exponent), 0
    )
    for label, value in overall_totals(data, typed=True):
        number_format = "0.00" if label.startswith("Billable") else money_format
        sheet.append(_bold_cells(sheet, [label, value], [None, number_format]))


def _number_formats(resource: TimesheetTableResource) -> list[str | None]:
    """Each column's Excel number format; hours keep General, which shows 1.5 and 0.25 as such."""
    formats: list[str | None] = []
    for field in resource.get_export_fields():
        if isinstance(field.widget, widgets.DateWidget):
            formats.append(XLSX_DATE_FORMAT)
        elif isinstance(field.widget, widgets.TimeWidget):
            formats.append(XLSX_TIME_FORMAT)
        elif isinstance(field.widget, MoneyWidget):
            formats.append(field.widget.number_format)
        else:
            formats.append(None)
    return formats


def _text_columns(resource: TimesheetTableResource) -> list[int]:
    return [
        index
        for index, field in enumerate(resource.get_export_fields())
        if isinstance(field.widget, widgets.CharWidget)
    ]


def _text_cell(sheet: WriteOnlyWorksheet, text: str) -> str | WriteOnlyCell:
    """Text stays text: a subject like `=HYPERLINK(...)` from an invitation is not a formula."""
    if ILLEGAL_CHARACTERS_RE.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if not text.startswith("="):
        return text
    cell = WriteOnlyCell(sheet, text)
    cell.data_type = "s"
    return cell


def _bold_cells(
    sheet: WriteOnlyWorksheet, values: Sequence[Any], formats: Sequence[str | None]
) -> list[WriteOnlyCell]:
    cells = []
    for value, number_format in zip(values, formats, strict=True):
        cell = WriteOnlyCell(sheet)
        cell.font = BOLD
        if number_format and not isinstance(value, str):
            cell.number_format = number_format
        cell.value = value
        cells.append(cell)
    return cells


def _write_sheet(
    workbook: Workbook,
    title: str,
    resource: TimesheetTableResource,
    rows: Iterable[EffortRow | TravelRow],
) -> None:
    sheet = workbook.create_sheet(title)
    formats = _number_formats(resource)
    exported = resource.export_rows(rows, force_native_type=True)
    header = next(exported)
    for letter, column_name in zip("ABCDEFGHIJKL", header, strict=False):
        width = MONEY_WIDTH if column_name.startswith(("Rate (", "Amount (")) else WIDE_COLUMN
        sheet.column_dimensions[letter].width = XLSX_WIDTHS.get(column_name, width)
    sheet.freeze_panes = "A2"
    sheet.append(_bold_cells(sheet, header, [None] * len(header)))
    # One formatted cell per column, given each row's value in turn: openpyxl writes a row as it
    # is appended, and a new styled cell for each of 200,000 values costs a quarter of the floor.
    styled = [
        (index, _formatted_cell(sheet, number_format))
        for index, number_format in enumerate(formats)
        if number_format is not None
    ]
    text_columns = _text_columns(resource)
    values = next(exported)
    for following in exported:
        for index, cell in styled:
            cell.value = values[index]
            values[index] = cell
        texts = [values[index] for index in text_columns]
        if any(text[:1] == "=" for text in texts) or ILLEGAL_CHARACTERS_RE.search("".join(texts)):
            for index in text_columns:
                values[index] = _text_cell(sheet, values[index])
        elif "" in texts:
            # An empty text is no cell at all: openpyxl skips None, and most rows have no
            # location or comments (a fifth of a 50,000-row sheet's cells).
            for index in text_columns:
                if values[index] == "":
                    values[index] = None
        sheet.append(values)
        values = following
    # The last row exported is the Total row.
    sheet.append(_bold_cells(sheet, values, formats))


def _formatted_cell(sheet: WriteOnlyWorksheet, number_format: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet)
    cell.number_format = number_format
    return cell


def zip_files(files: dict[str, bytes]) -> bytes:
    """Several documents in one zip (an export that spans several customers)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def file_name(data: TimesheetData, fmt: str) -> str:
    """`<Consultant> timesheet for <Customer> <D Mon YY>.<fmt>`."""
    return f"{data.file_stem}.{fmt}"
