"""Login helpers: the username django-axes counts failures against, and the lockout answer."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

LOCKOUT_MESSAGE = "Too many failed login attempts. The account is locked for an hour; reset your password or try later."


def axes_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """Failures count per email address, whether it came from the login form or the API."""
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("username")
    if not value and request is not None and hasattr(request, "POST"):
        value = request.POST.get("username") or request.POST.get("email")
    return value.strip().lower() if value else None


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """A 429 as JSON for the API and as a page for the browser."""
    if request.path.startswith("/api/"):
        return JsonResponse({"message": LOCKOUT_MESSAGE, "extra": {"locked": True}}, status=429)
    return render(request, "accounts/locked.html", {"message": LOCKOUT_MESSAGE}, status=429)
