"""The admin change list's rows and date links, planned once per page instead of per cell.

Django's `items_for_result` works each cell out from scratch: it looks the column up again,
builds a choices dict, reverses and resolves the row's change URL, renders the action checkbox
through the form renderer's templates and the boolean icons through `static()`, and the results
template then loops over every cell. `PlannedChangeList` does that work once per column and per
page and writes each row as one string: the same HTML (tests/test_admin_changelist_rows.py
compares it with Django's own, row for row) at a fraction of the cost. A change list with
editable rows (`list_editable`) keeps Django's own rendering.

The date hierarchy's top level (which years hold rows) is Django's `datetimes(field, "year")`:
a DISTINCT over every row of the list, which for a consultant with 100,000 appointments costs
more than the page. `planned_date_hierarchy` asks instead, in one query, whether each year
between the first and the last row holds a row: one index probe a year.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.contrib import admin
from django.contrib.admin import utils as admin_utils
from django.contrib.admin.templatetags import admin_list as django_list
from django.contrib.admin.templatetags.admin_list import ResultList, date_hierarchy, result_headers
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName,
    display_for_field,
    display_for_value,
    get_fields_from_path,
    lookup_field,
    quote,
)
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import connections, models
from django.db.models import Max, Min, Model
from django.urls import NoReverseMatch
from django.utils import timezone
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe

# Stands in for a row's primary key (and its text) in what is rendered once per page.
_PK = "zqplannedpkzq"
_TEXT = "zqplannedtextzq"
_SAFE_PK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
# More years than this between the first and the last row: Django's own DISTINCT is cheaper.
YEARS_PROBED = 200
# The stand-in year of the bounds the probe is compiled with, replaced by each year's.
_SENTINEL_YEAR = 1111


class _Pattern:
    """A string rendered once with placeholders, filled in per row in one pass."""

    def __init__(self, rendered: str, *placeholders: str) -> None:
        self.parts: list[str | int] = [rendered]
        for slot, placeholder in enumerate(placeholders):
            parts: list[str | int] = []
            for part in self.parts:
                if isinstance(part, int):
                    parts.append(part)
                    continue
                pieces = part.split(placeholder)
                for index, piece in enumerate(pieces):
                    if index:
                        parts.append(slot)
                    parts.append(piece)
            self.parts = parts

    def fill(self, *values: str) -> str:
        return "".join(values[p] if isinstance(p, int) else p for p in self.parts)


@dataclass
class _Column:
    """One column of the list and what every row's cell in it shares."""

    name: Any
    classes: str
    linked: bool
    tag: str
    field: models.Field | None
    format: Callable[[Any], Any] | None = None
    # A callable column or the admin's own display method, as Django's lookup_field finds it.
    display: Callable[[Any], Any] | None = None


class _Stub:
    """An object with a placeholder primary key and text, for rendering a pattern once."""

    def __init__(self, pk_attname: str) -> None:
        self.pk = _PK
        setattr(self, pk_attname, _PK)

    def __str__(self) -> str:
        return _TEXT


class PlannedChangeList(ChangeList):
    """Django's ChangeList, with its rows and its date links planned once per page."""

    def planned_result_list(self) -> dict[str, Any] | None:
        """What `{% result_list %}` hands its template, or None to leave it to Django."""
        if self.formset:
            return None
        headers = list(result_headers(self))
        plan = _RowPlan(self)
        return {
            "cl": self,
            "result_hidden_fields": [],
            "result_headers": headers,
            "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
            "results": [ResultList(None, [plan.row(result)]) for result in self.result_list],
            "templates": _admin_templates(self, "change_list_results.html"),
        }

    def planned_date_hierarchy(self) -> dict[str, Any] | None:
        """What `{% date_hierarchy %}` hands its template, or None when the list has none."""
        if not self.date_hierarchy:
            return None
        found = planned_date_hierarchy(self)
        return {**found, "templates": _admin_templates(self, "date_hierarchy.html")}


class PlannedChangeListMixin:
    """A ModelAdmin whose change list is a PlannedChangeList (the templates in
    adminassistant/templates/admin/change_list.html use its plans)."""

    def get_changelist(self, request: Any, **kwargs: Any) -> type[ChangeList]:
        return PlannedChangeList


def _admin_templates(cl: ChangeList, name: str) -> list[str]:
    # As InclusionAdminNode looks them up: per model, per app, then the admin's own.
    app, model = cl.opts.app_label, cl.opts.model_name
    return [f"admin/{app}/{model}/{name}", f"admin/{app}/{name}", f"admin/{name}"]


class _RowPlan:
    """Every column's lookup, formatting and link, worked out once for the page."""

    def __init__(self, cl: ChangeList) -> None:
        self.cl = cl
        self.model_admin = cl.model_admin
        self.empty = cl.model_admin.get_empty_value_display()
        self.icons: dict[tuple[type, Any], str] = {}
        self.link = self._link_pattern()
        self.checkbox = self._checkbox_pattern()
        self.columns = list(self._columns())

    def _columns(self) -> Iterator[_Column]:
        cl = self.cl
        first = True
        for index, name in enumerate(cl.list_display):
            linked = cl.list_display_links is not None and (
                (first and not cl.list_display_links) or name in cl.list_display_links
            )
            field = self._field(name)
            classes = [f"field-{_column_name(name, index)}"]
            if field is None and name == "action_checkbox":
                classes = ["action-checkbox"]
            if field is not None and isinstance(
                field, (models.DateField, models.TimeField, models.ForeignKey)
            ):
                classes.append("nowrap")
            yield _Column(
                name=name,
                classes=" ".join(classes),
                linked=linked,
                tag="th" if linked and first else "td",
                field=field,
                format=self._formatter(field, linked) if field is not None else None,
                display=self._display(name) if field is None else None,
            )
            if linked:
                first = False

    def _field(self, name: Any) -> models.Field | None:
        """The model field a column shows, when Django's lookup would find one."""
        if callable(name):
            return None
        try:
            # The field lookup_field finds (Django's private helper: no stub for it).
            field = admin_utils._get_non_gfk_field(self.cl.lookup_opts, name)  # type: ignore[attr-defined]
        except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
            return None
        return None if field.auto_created else field

    def _display(self, name: Any) -> Callable[[Any], Any] | None:
        if callable(name):
            return name
        if name != "__str__" and hasattr(self.model_admin, name):
            return getattr(self.model_admin, name)
        return None

    def _formatter(self, field: models.Field, linked: bool) -> Callable[[Any], Any]:
        """display_for_field for this field, with what it recomputes per cell computed once."""
        empty = self.empty
        if isinstance(field.remote_field, models.ManyToOneRel):
            return lambda value: empty if value is None else value
        if getattr(field, "flatchoices", None):
            choices = dict(field.flatchoices)

            def chosen(value: Any) -> Any:
                try:
                    return choices.get(value, empty)
                except TypeError:  # list-like choices: Django makes them hashable
                    return display_for_field(value, field, empty, avoid_link=linked)

            return chosen
        if isinstance(field, models.BooleanField):
            return self.icon
        return lambda value: display_for_field(value, field, empty, avoid_link=linked)

    def icon(self, value: Any) -> str:
        key = (type(value), value)  # True and 1 are one key to a dict, not one icon's alt text
        if key not in self.icons:
            self.icons[key] = django_list._boolean_icon(value)  # type: ignore[attr-defined]
        return self.icons[key]

    def _link_pattern(self) -> _Pattern | None:
        """The change URL with its preserved filters, for a placeholder primary key."""
        cl = self.cl
        stub = _Stub(cl.pk_attname)
        try:
            url = cl.url_for_result(stub)  # type: ignore[arg-type]  # it reads the pk alone
        except NoReverseMatch:
            return None
        url = add_preserved_filters(
            {"preserved_filters": cl.preserved_filters, "opts": cl.opts}, url
        )
        if url.count(_PK) != 1 or cl.is_popup:
            return None
        return _Pattern(url, _PK)

    def _checkbox_pattern(self) -> _Pattern | None:
        """The action checkbox rendered once, when the admin's is Django's own."""
        if type(self.model_admin).action_checkbox is not admin.ModelAdmin.action_checkbox:
            return None
        stub = _Stub(self.cl.pk_attname)
        return _Pattern(self.model_admin.action_checkbox(stub), _PK, _TEXT)

    def row(self, result: Model) -> SafeString:
        cells = "".join(self._cell(column, result) for column in self.columns)
        return mark_safe(cells)  # noqa: S308 - _cell escapes whatever is not already safe

    def _cell(self, column: _Column, result: Model) -> str:
        classes = column.classes
        if column.field is not None:
            shown = self._field_value(column, result)
        elif column.name == "action_checkbox" and self.checkbox is not None:
            # Django's own checkbox, its two values escaped as its template escapes them.
            checkbox = self.checkbox.fill(escape(str(result.pk)), escape(str(result)))
            shown = mark_safe(checkbox)  # noqa: S308
        else:
            shown, nowrap = self._looked_up(column, result)
            if nowrap:
                classes += " nowrap"
        if column.linked:
            shown = self._linked(result, shown)
            return f'<{column.tag} class="{classes}">{shown}</{column.tag}>'
        return f'<td class="{classes}">{conditional_escape(shown)}</td>'

    def _field_value(self, column: _Column, result: Model) -> Any:
        assert column.field is not None and column.format is not None
        try:
            value = getattr(result, column.name)
        except ObjectDoesNotExist:
            return self.empty
        if isinstance(value, str) and value.strip() == "":
            value = ""
        return column.format(value)

    def _looked_up(self, column: _Column, result: Model) -> tuple[Any, bool]:
        """A column that is no model field, exactly as Django's items_for_result shows it."""
        attr: Any
        try:
            if column.display is not None:
                attr, value = column.display, column.display(result)
            else:
                _field, attr, value = lookup_field(column.name, result, self.model_admin)
        except ObjectDoesNotExist:
            return self.empty, False
        empty = getattr(attr, "empty_value_display", self.empty)
        if isinstance(value, str) and value.strip() == "":
            value = ""
        boolean = getattr(attr, "boolean", False)
        if isinstance(attr, property) and hasattr(attr, "fget"):
            boolean = getattr(attr.fget, "boolean", False)
        shown = self.icon(value) if boolean else display_for_value(value, empty)
        return shown, isinstance(value, (datetime.date, datetime.time))

    def _linked(self, result: Model, shown: Any) -> str:
        cl = self.cl
        pk = quote(getattr(result, cl.pk_attname))
        if self.link is not None and _SAFE_PK.issuperset(str(pk)):
            url = self.link.fill(str(pk))
        else:
            try:
                url = cl.url_for_result(result)
            except NoReverseMatch:
                return conditional_escape(shown)
            url = add_preserved_filters(
                {"preserved_filters": cl.preserved_filters, "opts": cl.opts}, url
            )
        popup = ""
        if cl.is_popup:
            value = result.serializable_value(str(cl.to_field) if cl.to_field else cl.pk_attname)
            popup = f' data-popup-opener="{conditional_escape(value)}"'
        return f'<a href="{conditional_escape(url)}"{popup}>{conditional_escape(shown)}</a>'


def _column_name(name: Any, index: int) -> str:
    if callable(name):
        return f"lambda{index}" if name.__name__ == "<lambda>" else name.__name__
    return name


def planned_date_hierarchy(cl: ChangeList) -> dict[str, Any]:
    """Django's date_hierarchy(cl), with the years of its top level found by index probes."""
    field_name = cl.date_hierarchy
    if any(cl.params.get(f"{field_name}__{part}") for part in ("year", "month", "day")):
        return _django_date_hierarchy(cl)
    field = get_fields_from_path(cl.model, field_name)[-1]
    found = cl.queryset.aggregate(first=Min(field_name), last=Max(field_name))
    first, last = found["first"], found["last"]
    if first is None or last is None:
        return {"show": True, "back": None, "choices": []}
    if isinstance(field, models.DateTimeField):
        first, last = (timezone.localtime(v) if timezone.is_aware(v) else v for v in (first, last))
    if first.year == last.year:
        # Django opens a list of one year at its months (of one month, at its days).
        opened = {f"{field_name}__year": first.year}
        if first.month == last.month:
            opened[f"{field_name}__month"] = first.month
        return _django_date_hierarchy(cast(ChangeList, _Opened(cl, opened)))
    if last.year - first.year >= YEARS_PROBED or last.year >= datetime.MAXYEAR:
        return _years_distinct(cl, field)
    return _years_level(cl, _years_present(cl, field, first.year, last.year))


def _django_date_hierarchy(cl: ChangeList) -> dict[str, Any]:
    return cast(dict[str, Any], date_hierarchy(cl))  # None only for a list without one


class _Opened:
    """The change list as Django's date_hierarchy sees it once it has picked the year (and the
    month) to open at: the same list, those lookups among its parameters."""

    def __init__(self, cl: ChangeList, opened: dict[str, int]) -> None:
        self._cl = cl
        self.params = {**cl.params, **opened}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cl, name)


def _years_distinct(cl: ChangeList, field: models.Field) -> dict[str, Any]:
    """The top level as Django finds it (a DISTINCT over the rows), for ranges of centuries."""
    return _years_level(cl, [found.year for found in _distinct(cl, field)])


def _distinct(cl: ChangeList, field: models.Field) -> Any:
    kind = "datetimes" if isinstance(field, models.DateTimeField) else "dates"
    return getattr(cl.queryset, kind)(cl.date_hierarchy, "year")


def _years_level(cl: ChangeList, years: list[int]) -> dict[str, Any]:
    field_name = cl.date_hierarchy
    return {
        "show": True,
        "back": None,
        "choices": [
            {
                "link": cl.get_query_string(
                    {f"{field_name}__year": str(year)}, [f"{field_name}__"]
                ),
                "title": str(year),
            }
            for year in years
        ],
    }


def _years_present(cl: ChangeList, field: models.Field, first: int, last: int) -> list[int]:
    """The years from `first` to `last` (in the current time zone) that hold a row of the list,
    in one query (as Django's own is one): does a row start on or after 1 January of the year and
    before the next?"""
    field_name = cl.date_hierarchy
    if isinstance(field, models.DateTimeField):
        zone = timezone.get_current_timezone() if settings.USE_TZ else None

        def start(year: int) -> Any:
            return datetime.datetime(year, 1, 1, tzinfo=zone)
    else:

        def start(year: int) -> Any:
            return datetime.date(year, 1, 1)

    years = range(first, last + 1)
    # The year's first row, in the field's order: the database walks the index from 1 January
    # and stops at the first row (an EXISTS may be planned as a scan of the whole table). The
    # question is compiled once, with two stand-in bounds, and asked for every year at once.
    low, high = start(_SENTINEL_YEAR), start(_SENTINEL_YEAR + 1)
    probe = (
        cl.queryset.filter(**{f"{field_name}__gte": low, f"{field_name}__lt": high})
        .order_by(field_name)
        .values(field_name)[:1]
    )
    sql, params = probe.query.sql_with_params()
    connection = connections[probe.db]
    stand_ins = [field.get_db_prep_value(bound, connection) for bound in (low, high)]
    slots = [i for i, param in enumerate(params) if param in stand_ins]
    if len(slots) != 2:  # a bound the filters share: ask Django (one query all the same)
        return [found.year for found in _distinct(cl, field)]
    asked: list[Any] = []
    for year in years:
        bounds = iter(field.get_db_prep_value(start(y), connection) for y in (year, year + 1))
        asked += [next(bounds) if i in slots else param for i, param in enumerate(params)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join([f"({sql})"] * len(years)), asked)
        answer = cursor.fetchone()
    return [year for year, found in zip(years, answer, strict=True) if found is not None]
