"""Per-request tenant scope and time zone, taken from the logged-in user."""

from __future__ import annotations

import zoneinfo

from django.urls import get_resolver
from django.utils import timezone

from . import clock
from .tenancy import scope_for_user


class TenantScopeMiddleware:
    """Run every request inside the requesting user's tenant scope (fails closed for anonymous)."""

    def __init__(self, get_response):
        self.get_response = get_response
        # Import every view, form and serializer now, outside any scope, so that querysets
        # they declare at import time are never built inside one request's tenant scope.
        get_resolver().url_patterns  # noqa: B018

    def __call__(self, request):
        with scope_for_user(request.user):
            return self.get_response(request)


class UserTimezoneMiddleware:
    """Show times in the user's own time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        clock.activate(getattr(user, "clock", "24h") if user.is_authenticated else "24h")
        if user.is_authenticated and user.time_zone:
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
            except zoneinfo.ZoneInfoNotFoundError:
                timezone.deactivate()
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
            clock.deactivate()
