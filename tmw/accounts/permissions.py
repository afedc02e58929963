"""How pages and the API declare the policy action they serve, and enforce it at the door.

A function view says ``@allow("engagement.manage")`` (or one action per method:
``@allow(GET="engagement.workspace", POST="engagement.manage")``); a class-based view sets
``access``; a DRF view sets ``access`` (one action, or one per viewset action, with ``read`` and
``write`` as the fallbacks for safe and unsafe methods) and uses the ``Allowed`` permission. The
roles behind each action live in ``tmw.accounts.policy`` only. Anonymous visitors are sent to the
login page; a role the policy does not list gets a 403. A request whose method the declaration does
not name is refused: the door fails closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import wraps
from typing import NoReturn

from django.contrib.auth.mixins import AccessMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from . import policy

# What a view declares: one action for every method, or a mapping of method (or viewset action,
# or "read" / "write") to action.
Access = str | Mapping[str, str]


def public(view):
    """Mark a view as open to anonymous visitors (the isolation test reads the mark)."""
    view.public = True
    return view


def action_for(access: Access | None, method: str, view_action: str | None = None) -> str | None:
    """The policy action a declaration names for one request, or None when it names none."""
    if access is None:
        return None
    if isinstance(access, str):
        return access
    method = method.upper()
    kind = "read" if method in SAFE_METHODS else "write"
    for key in (view_action, method, kind, "*"):
        if key and key in access:
            return access[key]
    return None


def declared_access(callback) -> Access | None:
    """The declaration of a resolved URL callback (function view, class-based view or DRF view)."""
    found = getattr(callback, "access", None)
    if found is not None:
        return found
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    return getattr(cls, "access", None)


def _check(request, access: Access, view_action: str | None = None):
    """None when the request may pass; the refusal response (login redirect) or a raised 403 otherwise."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    action = action_for(access, request.method, view_action)
    if action is None and request.method in ("HEAD", "OPTIONS"):
        action = action_for(access, "GET", view_action)
    if action is None or not policy.can(request.user, action):
        refuse(request, action)
    return None


def mark_refused(request, action: str | None) -> None:
    """Note on the request that the policy turned it away at the door (the role-matrix test reads it)."""
    request = getattr(request, "_request", request)  # a DRF request wraps Django's
    request.refused_by_policy = action or "(no action declared for this method)"


def refuse(request, action: str | None) -> NoReturn:
    """Turn the request away at the door: a 403."""
    mark_refused(request, action)
    raise PermissionDenied


def allow(access: Access | None = None, **per_method: str):
    """Decorator for function views: ``@allow("x.view")`` or ``@allow(GET="x.view", POST="x.manage")``."""
    declared: Access = access if access is not None else dict(per_method)
    for action in [declared] if isinstance(declared, str) else declared.values():
        policy.roles_for(action)  # an unknown action fails at import time

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            refusal = _check(request, declared)
            if refusal is not None:
                return refusal
            return view(request, *args, **kwargs)

        wrapped.access = declared  # type: ignore[attr-defined]  # read by the role-matrix test
        return wrapped

    return decorator


class AllowMixin(AccessMixin):
    """Class-based views: set ``access`` to an action (or a mapping per method)."""

    access: Access | None = None

    def dispatch(self, request, *args, **kwargs):
        if self.access is None:
            refuse(request, None)
        refusal = _check(request, self.access)
        if refusal is not None:
            return refusal
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]  # a mixin: the view it joins has dispatch


class Allowed(BasePermission):
    """DRF permission: the view's ``access`` names the action for this request; the policy decides."""

    def has_permission(self, request, view) -> bool:
        action = action_for(getattr(view, "access", None), request.method, getattr(view, "action", None))
        if action is not None and policy.can(request.user, action):
            return True
        mark_refused(request, action)
        return False
