"""Login plumbing: the client address, the username django-axes counts failures against, the lockout
answer, and API token authentication that refuses switched-off and locked-out users."""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

LOCKOUT_MESSAGE = "Too many failed login attempts. The account is locked for an hour; reset your password or try later."
TOKEN_LOCKED_MESSAGE = "This account is locked after too many failed login attempts; reset your password or try later."  # noqa: S105


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: ``REMOTE_ADDR``, or behind ``PROXY_COUNT`` trusted proxies the address they saw.

    Only with ``BEHIND_PROXY`` is ``X-Forwarded-For`` read at all, and then the entry the nearest
    proxy added counts (``PROXY_COUNT`` from the right), never one the client wrote itself. The same
    rule as REST framework's ``NUM_PROXIES``, which the settings set alike, so lockout and throttling
    count the same address.
    """
    remote_addr = request.META.get("REMOTE_ADDR")
    proxies = settings.PROXY_COUNT if settings.BEHIND_PROXY else 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if not proxies or not forwarded:
        return remote_addr
    addresses = [a.strip() for a in forwarded.split(",")]
    return addresses[-min(proxies, len(addresses))] or remote_addr


def normalise_username(value: str | None) -> str | None:
    """Failures count per email address, in lower case."""
    return value.strip().lower() if value else None


def axes_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """Failures count per email address, whether it came from the login form or the API."""
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("username")
    if not value and request is not None and hasattr(request, "POST"):
        value = request.POST.get("username") or request.POST.get("email")
    return normalise_username(value)


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """A 429 as JSON for the API and as a page for the browser."""
    if request.path.startswith("/api/"):
        return JsonResponse({"message": LOCKOUT_MESSAGE, "extra": {"locked": True}}, status=429)
    return render(request, "accounts/locked.html", {"message": LOCKOUT_MESSAGE}, status=429)


def is_locked_out(request: HttpRequest, email: str) -> bool:
    """Whether logins for ``email`` from this request's address are locked (lockout is per email and address)."""
    return AxesProxyHandler.is_locked(request, {"username": email})


class ActiveTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``, refused for a switched-off user and while the user is locked out."""

    def authenticate(self, request):
        found = super().authenticate(request)
        if found is None:
            return None
        user, token = found
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        if is_locked_out(request._request, user.email):
            raise exceptions.AuthenticationFailed(TOKEN_LOCKED_MESSAGE)
        return user, token
