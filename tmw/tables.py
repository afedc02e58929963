"""Lists people can work with: sortable columns, a CSV of exactly what the list shows, and pages that keep both.

A page declares its columns once (``Column``), builds a ``Table`` from the request, orders its
queryset with it and renders each header with ``{% sort_header table "key" %}``; ``?sort=key`` or
``?sort=-key`` picks the order, and ``?format=csv`` answers the same filtered, sorted rows as a CSV
whose cells a spreadsheet will not run as formulas. The filters, the sort and the page all travel in
the query string, so a link to page 3 of a sorted, filtered list is that list.

Why not django-tables2: the lists already have their own markup (htmx targets, badges, phone
layouts) and filtersets; a table library would own the markup too. Sorting and CSV are the part
they lack, and they fit in this module.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict

from tmw.web import csv_cell

SORT_PARAM = "sort"
CSV_MAX_ROWS = 20_000


@dataclass(frozen=True)
class Column:
    """One sortable, exportable column of a list."""

    key: str  # the value of ?sort=
    label: str
    order_by: Sequence[str] = ()  # ORM fields it sorts by; empty: not sortable
    value: Callable[[Any], Any] | None = None  # its CSV cell (default: the attribute named ``key``)
    csv: bool = True

    def cell(self, row: Any) -> Any:
        if self.value is not None:
            return self.value(row)
        return getattr(row, self.key, "")


@dataclass
class Table:
    """The columns of one list and the order the request asked for."""

    request: HttpRequest
    columns: Sequence[Column]
    default: str  # e.g. "name" or "-created"
    error: str = ""
    sort: str = field(init=False)

    def __post_init__(self) -> None:
        self.by_key = {c.key: c for c in self.columns}
        asked = self.request.GET.get(SORT_PARAM, "").strip()
        if asked and self._column(asked) is None:
            self.error = f"“{SORT_PARAM}” must be one of the list's columns, not {asked[:40]!r}."
            asked = ""
        self.sort = asked or self.default

    def _column(self, sort: str) -> Column | None:
        column = self.by_key.get(sort.removeprefix("-"))
        return column if column is not None and column.order_by else None

    @property
    def key(self) -> str:
        return self.sort.removeprefix("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    def ordering(self) -> list[str]:
        column = self._column(self.sort)
        fields = list(column.order_by) if column else []
        if self.descending:
            fields = [f[1:] if f.startswith("-") else f"-{f}" for f in fields]
        return [*fields, "-pk" if self.descending else "pk"]

    def order(self, queryset: QuerySet) -> QuerySet:
        return queryset.order_by(*self.ordering())

    def query_without(self, *names: str) -> QueryDict:
        query = self.request.GET.copy()
        for name in names:
            query.pop(name, None)
        return query

    def header(self, key: str) -> dict[str, Any]:
        """What a column header needs: its label, the URL that sorts by it (toggling), and its aria-sort."""
        column = self.by_key[key]
        query = self.query_without("page", "format")
        active = self.key == key
        query[SORT_PARAM] = f"-{key}" if active and not self.descending else key
        return {
            "label": column.label,
            "sortable": bool(column.order_by),
            "url": "?" + query.urlencode(),
            "active": active,
            "descending": active and self.descending,
            "aria_sort": ("descending" if self.descending else "ascending") if active else "none",
        }

    def csv_url(self) -> str:
        query = self.query_without("page")
        query["format"] = "csv"
        return "?" + query.urlencode()

    @property
    def wants_csv(self) -> bool:
        return self.request.GET.get("format") == "csv"

    def csv_response(self, rows: Iterable[Any], filename: str) -> HttpResponse:
        """The rows (already filtered and ordered) as a CSV of the exportable columns, at most ``CSV_MAX_ROWS``."""
        columns = [c for c in self.columns if c.csv]
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([c.label for c in columns])
        for n, row in enumerate(rows):
            if n >= CSV_MAX_ROWS:
                break
            writer.writerow([csv_cell(c.cell(row)) for c in columns])
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
