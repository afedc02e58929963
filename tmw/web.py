"""What every app's pages share: htmx-aware redirects, service errors on forms, safe CSV cells, and
ids read from the path or the query string within the range the database holds, and the select
that searches a large directory as the user types."""

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


SEARCH_MATCHES = 20  # the most options one search writes
SEARCH_PROMPT = "Type two or more letters of the name"


class SearchSelect(forms.Select):
    """A ``<select>`` over a directory too large to write out (20,000 MSPs), filled as the user types.

    The page carries only the chosen option, if any, and a search box beside the select. Typing
    asks ``search_url`` (htmx, the text as ``q``) for the first matches as ``<option>`` elements
    (``search_options``), which replace the select's own. The form field still validates the
    posted id against its whole queryset, so what the user may choose is said once, by the field.
    """

    def __init__(self, attrs=None, *, search_url: str = "") -> None:
        super().__init__(attrs)
        self.search_url = search_url

    def render(self, name, value, attrs=None, renderer=None):
        final_attrs = self.build_attrs(self.attrs, attrs)
        wanted = [number for v in self.format_value(value) if (number := bounded_int(v)) is not None]
        chosen: list[tuple[object, str]] = []
        queryset = getattr(self.choices, "queryset", None)  # a ModelChoiceField's iterator
        if wanted and queryset is not None:
            label = self.choices.field.label_from_instance  # type: ignore[attr-defined]
            chosen = [(obj.pk, label(obj)) for obj in queryset.filter(pk__in=wanted)]
        options = format_html('<option value="">{}</option>', SEARCH_PROMPT) + format_html_join(
            "", '<option value="{}" selected>{}</option>', chosen
        )
        box_id = f"{final_attrs.get('id') or name}_search"
        search = format_html(
            '<input type="search" id="{}" name="q" autocomplete="off" placeholder="Search by name" '
            'aria-label="Search by name" hx-get="{}" hx-trigger="input changed delay:250ms, search" '
            'hx-include="this" hx-target="next select" hx-swap="innerHTML" hx-sync="this:replace">',
            box_id,
            self.search_url,
        )
        return format_html(
            '<div class="search-select">{}<select name="{}"{}>{}</select></div>',
            search,
            name,
            flatatt(final_attrs),
            options,
        )


def use_search_select(field: forms.ModelChoiceField, search_url: str) -> None:
    """Give a model choice field a ``SearchSelect`` that asks ``search_url`` for matches."""
    widget = SearchSelect(attrs=field.widget.attrs, search_url=search_url)
    widget.choices = field.choices  # type: ignore[assignment]  # the iterator, read lazily (render)
    widget.is_required = field.required
    field.widget = widget


def search_options(request: HttpRequest, queryset, *, field: str = "name") -> HttpResponse:
    """The first matches of ``q`` in ``queryset`` by ``field``, as ``<option>`` elements for ``SearchSelect``.

    The first option says what was found (no match, how many, or that there are more than
    ``SEARCH_MATCHES`` and typing more narrows them) and chooses nothing.
    """
    q = request.GET.get("q", "").strip()[:100]
    if len(q) < 2:
        return HttpResponse(format_html('<option value="">{}</option>', SEARCH_PROMPT))
    found = list(queryset.filter(**{f"{field}__icontains": q}).order_by(field, "pk")[: SEARCH_MATCHES + 1])
    if not found:
        head = f"Nothing matches “{q}”"
    elif len(found) > SEARCH_MATCHES:
        head = f"The first {SEARCH_MATCHES} matches: type more to narrow them"
    else:
        head = f"{len(found)} {'match' if len(found) == 1 else 'matches'}: choose one"
    body = format_html('<option value="">{}</option>', head) + format_html_join(
        "", '<option value="{}">{}</option>', ((obj.pk, str(obj)) for obj in found[:SEARCH_MATCHES])
    )
    return HttpResponse(body)
