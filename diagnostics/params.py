"""Whole numbers read from a query string (page filters and API filters): bounded, or a 400 naming the field."""

from __future__ import annotations

from collections.abc import Mapping

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tmw import web
from tmw.errors import ApplicationError
from tmw.web import MAX_ID


def bounded_int(params: Mapping[str, str], name: str, *, minimum: int = 1, maximum: int = MAX_ID) -> int | None:
    """The whole number ``params[name]`` holds, or None when it is absent or blank.

    Anything else (words, decimals, exponents such as ``-9.83e+34``, numbers out of range; read by
    ``tmw.web.bounded_int``) raises a 400 ``ApplicationError`` that names the field.
    """
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    value = web.bounded_int(raw, minimum=minimum, maximum=maximum)
    if value is None:
        raise _bad(name, minimum, maximum)
    return value


def _bad(name: str, minimum: int, maximum: int) -> ApplicationError:
    message = f"{name} must be a whole number from {minimum} to {maximum}."
    return ApplicationError(message, extra={name: [message]})


def bad_filter_page(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    """The 400 page of a page whose filter could not be read, saying which one."""
    return render(request, "diagnostics/bad_filter.html", {"message": exc.message}, status=400)
