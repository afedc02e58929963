"""What every app's pages share: htmx-aware redirects, service errors on forms, safe CSV cells, and
ids read from the path or the query string within the range the database holds."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import BadRequest
from django.forms.utils import flatatt
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.html import format_html, format_html_join

from tmw.errors import ApplicationError

# Ids are 64-bit: a larger number can be no row's id (and some databases refuse to compare it).
MAX_ID = 2**63 - 1
_INTEGER_RE = re.compile(r"[+-]?[0-9]+", re.ASCII)


def bounded_int(value: object, *, minimum: int = -MAX_ID - 1, maximum: int = MAX_ID) -> int | None:
    """``value`` as an int when it is written with ASCII digits and fits 64 bits; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and len(value.strip()) <= 20 and _INTEGER_RE.fullmatch(value.strip()):
        number = int(value.strip())  # 20 characters hold any 64-bit value; longer ones never reach int()
    else:
        return None
    return number if minimum <= number <= maximum else None


class BoundedIntConverter:
    """``<int:pk>`` in paths: ASCII digits that fit a 64-bit id; a larger number matches no route (a 404)."""

    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        number = bounded_int(value, minimum=0)
        if number is None:
            raise ValueError(f"{value!r} is not an id")  # the resolver tries the next pattern, then 404s
        return number

    def to_url(self, value: object) -> str:
        return str(value)


def int_param(request: HttpRequest, name: str, default: int | None = None) -> int | None:
    """The whole number in ``?<name>=`` (an id, a page), ``default`` when absent or empty; a 400 when it is not one."""
    raw = request.GET.get(name, "")
    if raw.strip() == "":
        return default
    number = bounded_int(raw)
    if number is None:
        raise BadRequest(f"“{name}” must be a whole number such as an id, not {raw[:40]!r}.")
    return number


# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def htmx_redirect(request: HttpRequest, url: str) -> HttpResponse:
    """After a successful POST: ``HX-Redirect`` for htmx, a plain redirect otherwise."""
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def add_application_error(form, exc: ApplicationError) -> None:
    """Show a service's refusal on a form: its message on top, its field messages by their fields."""
    form.add_error(None, exc.message)
    for name, errors in (exc.extra or {}).items():
        if name in form.fields:
            for error in errors if isinstance(errors, list | tuple) else [errors]:
                form.add_error(name, str(error))


def csv_cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula (a leading quote neutralises it)."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


class QuickSelect(forms.Select):
    """A ``<select>`` written in Python: Django renders every option through a template of its own.

    For a select of a few hundred options (every vendor) that template work was 70 ms of a page;
    this writes the same markup (name, attributes, the selected option) in one pass.
    """

    def render(self, name, value, attrs=None, renderer=None):
        selected = {str(v) for v in self.format_value(value)}
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                ("" if v is None else v, " selected" if str("" if v is None else v) in selected else "", label)
                for v, label in self.choices
            ),
        )
        return format_html(
            '<select name="{}"{}>{}</select>', name, flatatt(self.build_attrs(self.attrs, attrs)), options
        )
