"""Whole numbers read from a query string (page filters and API filters): bounded, or a 400 naming the field."""

from __future__ import annotations

from collections.abc import Mapping

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tmw.errors import ApplicationError

# The largest id the database stores (a 32-bit signed integer column).
MAX_ID = 2**31 - 1


def bounded_int(params: Mapping[str, str], name: str, *, minimum: int = 1, maximum: int = MAX_ID) -> int | None:
    """The whole number ``params[name]`` holds, or None when it is absent or blank.

    Anything else (words, decimals, exponents such as ``-9.83e+34``, numbers out of range)
    raises a 400 ``ApplicationError`` that names the field.
    """
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.lstrip("-").isdigit() and len(raw) <= 12):
        raise _bad(name, minimum, maximum)
    value = int(raw)
    if not minimum <= value <= maximum:
        raise _bad(name, minimum, maximum)
    return value


def _bad(name: str, minimum: int, maximum: int) -> ApplicationError:
    message = f"{name} must be a whole number from {minimum} to {maximum}."
    return ApplicationError(message, extra={name: [message]})


def bad_filter_page(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    """The 400 page of a page whose filter could not be read, saying which one."""
    return render(request, "diagnostics/bad_filter.html", {"message": exc.message}, status=400)
