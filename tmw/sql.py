"""Rows sent to PostgreSQL in bulk: one array literal per column, read back by ``unnest``.

A batch write (the statement run's statements, lines and audit rows) passes its rows as one
parameter per column rather than one per value: the driver passes a string as it is, where it
would otherwise adapt each element on its own, and the statement's text stays the same whatever
the number of rows. A column holding one value for every row goes as that one value.

A long list of ids goes the same way: ``filter(agreement_id__in_ids=ids)`` is
``agreement_id = ANY(%s::bigint[])`` with one parameter on PostgreSQL (``IN (%s, …)`` elsewhere),
where ``__in`` would prepare, and the driver parse, one placeholder per id.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import models

__all__ = ["InIds", "install", "pg_array", "unnest_rows"]


def _quoted(value: str) -> str:
    """A text element of an array literal: in double quotes, its backslashes and quotes escaped."""
    # Two replace() calls: several times faster than str.translate with a table, per element.
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _array_item(kind: type) -> Callable[[Any], str]:
    """How a value of ``kind`` is written as an element of an array literal."""
    if kind is bool:
        return lambda value: "t" if value else "f"
    if issubclass(kind, int | Decimal):
        return str
    if issubclass(kind, datetime.date):  # dates and datetimes: ISO, nothing to quote
        return kind.isoformat
    if issubclass(kind, str):
        return _quoted
    raise TypeError(f"No array literal for {kind.__name__}")


def pg_array(values: Sequence[Any]) -> str:
    """A PostgreSQL array literal of ``values`` (``{1,2,NULL}``, text elements quoted), for ``%s::type[]``."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if len(kinds) == 1:
        item = _array_item(kinds.pop())
        return "{" + ",".join("NULL" if value is None else item(value) for value in values) + "}"
    items = ("NULL" if value is None else _array_item(type(value))(value) for value in values)
    return "{" + ",".join(items) + "}"


def unnest_rows(rows: Sequence[tuple], types: Sequence[str]) -> tuple[str, list[Any]]:
    """A ``SELECT`` of ``rows`` (its columns in order, each cast to its type in ``types``) and its parameters.

    Every column goes to ``unnest`` as one array literal, except one that holds the same value in
    every row: that one is a single parameter (most of a batch's columns are: its period, its run,
    its time). The first column always goes as an array, so the ``SELECT`` has as many rows as ``rows``.
    """
    columns = list(zip(*rows, strict=True)) or [() for _ in types]
    selected, arrays, params, scalars = [], [], [], []
    for index, (column, kind) in enumerate(zip(columns, types, strict=True)):
        first = column[0] if column else None
        if index and column and all(value == first and type(value) is type(first) for value in column):
            selected.append(f"%s::{kind}")
            scalars.append(first)
        else:
            selected.append(f"u.c{index}")
            arrays.append((f"%s::{kind}[]", f"c{index}"))
            params.append(pg_array(column))
    # Only placeholders, casts to the caller's types and column names: the values are parameters.
    sql = (
        f"SELECT {', '.join(selected)} FROM unnest({', '.join(a for a, _ in arrays)}) "  # noqa: S608
        f"AS u({', '.join(name for _, name in arrays)})"
    )
    # The scalars come first in the text (the SELECT list), then the arrays (FROM).
    return sql, [*scalars, *params]


class InIds(models.Lookup):
    """``field__in_ids=[1, 2, …]``: integer ids as one array parameter on PostgreSQL (``= ANY``), ``IN`` elsewhere."""

    lookup_name = "in_ids"
    prepare_rhs = False

    def get_prep_lookup(self) -> list[int]:
        return sorted({int(value) for value in self.rhs})

    def as_sql(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, pg_array(self.rhs)]
        return f"{lhs} IN ({', '.join(['%s'] * len(self.rhs))})", [*lhs_params, *self.rhs]


def install() -> None:
    """Register the ``__in_ids`` lookup on every model field (from ``AccountsConfig.ready``).

    Foreign keys do not inherit the lookups of plain fields, so they are given it too.
    """
    models.Field.register_lookup(InIds)
    models.ForeignObject.register_lookup(InIds)
