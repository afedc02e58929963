"""Role checks for pages and the API."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.mixins import AccessMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from .models import MSP_ROLES, OPERATOR_ROLES, VENDOR_ROLES, Role

PARTNERS = frozenset({Role.PARTNER, Role.ADMIN})
FINANCE = frozenset({Role.FINANCE, Role.ADMIN})
OPERATORS = OPERATOR_ROLES
VENDORS = VENDOR_ROLES
VENDOR_ADMINS = frozenset({Role.VENDOR_ADMIN})
MSPS = MSP_ROLES


def public(view):
    """Mark a view as open to anonymous visitors (the isolation test reads the mark)."""
    view.public = True
    return view


def _allowed(user, roles) -> bool:
    return user.is_authenticated and user.is_active and user.role in roles


def role_required(*role_sets):
    """Decorator for function views: anonymous → login, wrong role → 403."""
    roles = frozenset().union(*role_sets)

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not _allowed(request.user, roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.allowed_roles = roles  # type: ignore[attr-defined]  # a function attribute, read by the isolation test
        return wrapped

    return decorator


class RoleRequiredMixin(AccessMixin):
    """Class-based views: set ``allowed_roles``; anonymous → login, wrong role → 403."""

    allowed_roles: frozenset = frozenset()
    raise_exception = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not _allowed(request.user, self.allowed_roles):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]  # a mixin: the view it joins has dispatch


class HasRole(BasePermission):
    """DRF permission: ``HasRole.of(PARTNERS, FINANCE)`` lets those roles through."""

    roles: frozenset = frozenset()

    @classmethod
    def of(cls, *role_sets):
        return type("HasRole", (cls,), {"roles": frozenset().union(*role_sets)})

    def has_permission(self, request, view) -> bool:
        return _allowed(request.user, self.roles)
