"""django-import-export resources for the timesheet's tables: the columns of the CSV and XLSX.

The resources are not tied to a model: they export the `EffortRow`s and `TravelRow`s that billing
computed, so the spreadsheet files carry exactly the rows and totals of the PDF. Exported as text
(CSV) a row reads `08-May-25, 09:30, 1.50, ...`; exported with `force_native_type=True` (XLSX, as
django-import-export's admin does for binary formats) dates, times and hours stay typed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

import tablib
from import_export import fields, resources, widgets

from timesheets.billing import NO_PRICING, EffortRow, Pricing, TravelRow, minor_unit

SHORT_DATE_FORMAT = "%d-%b-%y"
CLOCK_FORMAT = "%H:%M"
TOTAL_LABEL = "Total"
CENT = Decimal("0.01")


class HoursWidget(widgets.DecimalWidget):
    """Hours as a number: `1.50` as text, whatever the locale; a float in typed formats.

    Two decimal places as text matches the PDF, whose hours are quarters or 2-decimal figures.
    """

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        if kwargs.get("force_native_type"):
            return None if value is None else float(value)
        if value is None:
            return ""
        return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


class MoneyWidget(widgets.DecimalWidget):
    """Money as a number to the currency's minor unit (`1234.50`, `1235` in JPY) as text; a
    float in typed formats, which Excel shows with the matching number format."""

    def __init__(self, *, unit: Decimal, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.unit = unit

    @property
    def number_format(self) -> str:
        exponent = self.unit.as_tuple().exponent
        # A finite unit's exponent is an int; "n"/"N"/"F" mark NaN and infinity.
        places = -exponent if isinstance(exponent, int) else 0
        return "#,##0." + "0" * places if places else "#,##0"

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        if kwargs.get("force_native_type"):
            return None if value is None else float(value)
        if value is None:
            return ""
        return str(Decimal(value).quantize(self.unit, rounding=ROUND_HALF_UP))


def _date_field(column_name: str) -> fields.Field:
    return fields.Field(
        attribute="date", column_name=column_name, widget=widgets.DateWidget(SHORT_DATE_FORMAT)
    )


def _time_field(column_name: str) -> fields.Field:
    return fields.Field(
        attribute="time", column_name=column_name, widget=widgets.TimeWidget(CLOCK_FORMAT)
    )


def _hours_field(attribute: str, column_name: str) -> fields.Field:
    return fields.Field(attribute=attribute, column_name=column_name, widget=HoursWidget())


def _text_field(attribute: str, column_name: str) -> fields.Field:
    return fields.Field(attribute=attribute, column_name=column_name, widget=widgets.CharWidget())


class TimesheetTableResource(resources.Resource):
    """The rows of one timesheet table, in the given order, then a Total row.

    `hours_fields` name the columns that the Total row sums; its first column says "Total".
    """

    hours_fields: tuple[str, ...] = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._export_fields: list[fields.Field] | None = None
        self._exporters: list[Callable[..., Any]] | None = None

    # The base class looks up the field order, each field's name and its dehydrate method again
    # for every row: a tenth of a 50,000-row XLSX export. The answers are the same for every row,
    # so they are looked up once; dehydrate_<field> methods still apply.

    def get_export_fields(self, selected_fields: Any = None) -> list[fields.Field]:
        if selected_fields:
            return super().get_export_fields(selected_fields)
        if self._export_fields is None:
            self._export_fields = super().get_export_fields()
        return self._export_fields

    def export_resource(self, instance: Any, selected_fields: Any = None, **kwargs: Any) -> list:
        if selected_fields:
            return super().export_resource(instance, selected_fields, **kwargs)
        if self._exporters is None:
            self._exporters = [self._exporter(field) for field in self.get_export_fields()]
        return [export(instance, **kwargs) for export in self._exporters]

    def _exporter(self, field: fields.Field) -> Callable[..., Any]:
        dehydrate = field.get_dehydrate_method(self.get_field_name(field))
        method = dehydrate if callable(dehydrate) else getattr(self, dehydrate, None)
        if method is None:
            return field.export
        return lambda instance, **kwargs: method(instance)

    def totals(self, rows: Iterable[Any]) -> dict[str, Decimal]:
        sums = dict.fromkeys(self.hours_fields, Decimal(0))
        for row in rows:
            for name in self.hours_fields:
                sums[name] += getattr(row, name)
        return sums

    def total_row(self, totals: Mapping[str, Decimal], **kwargs: Any) -> list[Any]:
        blank = None if kwargs.get("force_native_type") else ""
        cells: list[Any] = []
        for field in self.get_export_fields():
            name = self.get_field_name(field)
            if name in totals:
                cells.append(field.widget.render(totals[name], **kwargs))
            else:
                cells.append(blank if cells else TOTAL_LABEL)
        return cells

    def after_export(self, queryset: Any, dataset: tablib.Dataset, **kwargs: Any) -> None:
        dataset.append(self.total_row(self.totals(queryset), **kwargs))

    def export_rows(self, rows: Iterable[Any], **kwargs: Any) -> Iterator[list[Any]]:
        """The header, each row as exported, then the Total row, in one pass over `rows`.

        For exports too large to hold as a `tablib.Dataset` (a generator of 50,000 rows).
        """
        yield self.get_export_headers()
        sums = dict.fromkeys(self.hours_fields, Decimal(0))
        names = self.hours_fields
        for row in rows:
            for name in names:
                sums[name] += getattr(row, name)
            yield self.export_resource(row, **kwargs)
        yield self.total_row(sums, **kwargs)


if TYPE_CHECKING:
    # The mixin is only ever mixed into a table resource: type it as one.
    _PricedBase = TimesheetTableResource
else:
    _PricedBase = object


class PricedResourceMixin(_PricedBase):
    """Rate and Amount columns after the table's own, in the timesheet's currency; the Total row
    sums the amounts (each already rounded to the minor unit), never re-prices the hours."""

    def __init__(self, *, pricing: Pricing, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        currency = pricing.currency
        self.fields: dict[str, fields.Field] = dict(self.fields)
        # Rates are stored to the cent whatever the currency; amounts to its minor unit.
        self.fields["rate"] = fields.Field(
            attribute="rate", column_name=f"Rate ({currency})", widget=MoneyWidget(unit=CENT)
        )
        self.fields["amount"] = fields.Field(
            attribute="amount",
            column_name=f"Amount ({currency})",
            widget=MoneyWidget(unit=minor_unit(currency)),
        )
        self.hours_fields = (*self.hours_fields, "amount")

    def get_export_order(self) -> tuple[str, ...]:
        order = list(self._meta.export_order)
        at = order.index("billable") + 1
        return (*order[:at], "rate", "amount", *order[at:])


class EffortResource(TimesheetTableResource):
    date = _date_field("Date")
    time = _time_field("Time")
    effort = _hours_field("effort", "Effort")
    billable = _hours_field("billable", "Billable")
    subject = _text_field("subject", "Subject")
    categories = _text_field("categories", "Categories")
    location = _text_field("location", "Location")
    comments = _text_field("comments", "Comments")

    hours_fields = ("effort", "billable")

    class Meta:
        export_order = (
            "date",
            "time",
            "effort",
            "billable",
            "subject",
            "categories",
            "location",
            "comments",
        )


class TravelResource(TimesheetTableResource):
    date = _date_field("Date")
    time = _time_field("Time")
    duration = _hours_field("duration", "Duration")
    billable = _hours_field("billable", "Billable")
    notes = _text_field("notes", "Notes")
    categories = _text_field("categories", "Categories")

    hours_fields = ("duration", "billable")

    class Meta:
        export_order = ("date", "time", "duration", "billable", "notes", "categories")


class PricedEffortResource(PricedResourceMixin, EffortResource):
    pass


class PricedTravelResource(PricedResourceMixin, TravelResource):
    pass


def effort_resource(pricing: Pricing = NO_PRICING) -> TimesheetTableResource:
    return PricedEffortResource(pricing=pricing) if pricing.priced else EffortResource()


def travel_resource(pricing: Pricing = NO_PRICING) -> TimesheetTableResource:
    return PricedTravelResource(pricing=pricing) if pricing.priced else TravelResource()


def effort_dataset(
    rows: Iterable[EffortRow], pricing: Pricing = NO_PRICING, **kwargs: Any
) -> tablib.Dataset:
    return effort_resource(pricing).export(list(rows), **kwargs)


def travel_dataset(
    rows: Iterable[TravelRow], pricing: Pricing = NO_PRICING, **kwargs: Any
) -> tablib.Dataset:
    return travel_resource(pricing).export(list(rows), **kwargs)
