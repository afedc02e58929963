"""Small helpers every app's pages share: htmx-aware redirects, service errors on forms, safe CSV cells."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from tmw.errors import ApplicationError

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
