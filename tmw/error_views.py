"""The error pages: styled 400/403/404/500 pages with the request id, and the API's 500 in its JSON shape.

They render without the request's context processors (no user, no database, no session), so
an error page still renders when what failed was the database or the request itself.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

from tmw.request_id import get_request_id

API_PREFIX = "/api/"


def _page(request: HttpRequest, template: str, status: int) -> HttpResponse:
    request_id = get_request_id() or getattr(request, "request_id", None)
    body = loader.get_template(template).render({"request_id": request_id, "status": status})
    response = HttpResponse(body, status=status)
    if request.headers.get("HX-Request") == "true":
        # htmx swaps 4xx answers into the element that asked; an error page replaces the whole page instead.
        response["HX-Retarget"] = "body"
        response["HX-Reswap"] = "innerHTML"
    return response


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _json(request: HttpRequest, message: str, status: int) -> JsonResponse:
    request_id = get_request_id() or getattr(request, "request_id", None)
    return JsonResponse({"message": message, "extra": {"request_id": request_id}}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """400: the request could not be understood."""
    if _wants_json(request):
        return _json(request, "The request is not valid.", 400)
    return _page(request, "400.html", 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: the user may not do this."""
    if _wants_json(request):
        return _json(request, "You do not have permission to perform this action.", 403)
    return _page(request, "403.html", 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404: nothing here (or nothing this user may see)."""
    if _wants_json(request):
        return _json(request, "Not found.", 404)
    return _page(request, "404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    """500: a bug on our side; the API answers its JSON error shape, pages the styled page."""
    if _wants_json(request):
        return _json(request, "Something went wrong on our side. Quote the request id when you report it.", 500)
    return _page(request, "500.html", 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 for a form without a valid CSRF token: say what happened and what to do, on the styled page."""
    if _wants_json(request):
        return _json(request, "CSRF check failed: reload the page and try again.", 403)
    return _page(request, "403_csrf.html", 403)
