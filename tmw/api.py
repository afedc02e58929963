"""API plumbing shared by every app: tenant-scoped base views, ids and filters within range, the router and
one error shape."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, mixins, routers, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from tmw.accounts.models import User
from tmw.accounts.tenancy import scope_for_user
from tmw.api_filters import FilterBackend, FilterSet, integer_filter_errors
from tmw.errors import ApplicationError, validation_extra
from tmw.web import bounded_int


class RefuseUnknownFields(serializers.Serializer):
    """An input serializer that answers 400 for a field it does not know (a typo is never ignored silently)."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(str(name) for name in data if name not in self.fields)
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class APIRootView(routers.APIRootView):
    """The list of every endpoint, for anyone who may use the API."""

    access = "api.use"


router = DefaultRouter()
router.APIRootView = APIRootView


def request_user(request: Request) -> User:
    """The user of an API request that the view's permission classes have let in (so never anonymous)."""
    return cast(User, request.user)


class TenantScopedMixin(APIView):
    """Authenticate first, then run the rest of the request inside the user's tenant scope.

    Token-authenticated requests are anonymous to the middleware, so API views enter
    the scope themselves once DRF knows the user.
    """

    _tenant_scope: ExitStack[bool | None] | None

    def initial(self, request, *args, **kwargs):
        self.perform_authentication(request)
        stack = self._tenant_scope = ExitStack()
        stack.enter_context(scope_for_user(request.user))
        super().initial(request, *args, **kwargs)

    def _leave_tenant_scope(self) -> None:
        stack = getattr(self, "_tenant_scope", None)
        if stack is not None:
            stack.close()
            self._tenant_scope = None

    def handle_exception(self, exc):
        # An error DRF does not answer (a bug: the 500 page) skips finalize_response; leave the scope here,
        # or the open scope is left behind and closed whenever it is garbage-collected, in a later request.
        try:
            return super().handle_exception(exc)
        except BaseException:
            self._leave_tenant_scope()
            raise

    def finalize_response(self, request, response, *args, **kwargs):
        try:
            return super().finalize_response(request, response, *args, **kwargs)
        finally:
            self._leave_tenant_scope()


class ScopedAPIView(TenantScopedMixin, APIView):
    """Base for action endpoints (``POST .../issue/``)."""


class BoundedLookupMixin:
    """Detail routes take an id of ASCII digits that fits 64 bits; anything else is a 404 (never a 500)."""

    lookup_value_regex = "[0-9]+"
    kwargs: dict[str, Any]

    def get_object(self):
        name = getattr(self, "lookup_url_kwarg", None) or getattr(self, "lookup_field", "pk")
        if name in self.kwargs and bounded_int(self.kwargs[name], minimum=0) is None:
            raise Http404
        return super().get_object()  # type: ignore[misc]  # a mixin: the viewset it joins has get_object


class ScopedGenericViewSet(TenantScopedMixin, BoundedLookupMixin, viewsets.GenericViewSet):
    """Base for viewsets; add the mixins you need."""


class ScopedReadOnlyModelViewSet(TenantScopedMixin, BoundedLookupMixin, viewsets.ReadOnlyModelViewSet):
    """Read-only list and detail, scoped."""


class ScopedModelViewSet(TenantScopedMixin, BoundedLookupMixin, viewsets.ModelViewSet):
    """Full CRUD, scoped."""


__all__ = [
    "BoundedLookupMixin",
    "RefuseUnknownFields",
    "FilterBackend",
    "FilterSet",
    "integer_filter_errors",
    "ScopedAPIView",
    "ScopedGenericViewSet",
    "ScopedModelViewSet",
    "ScopedReadOnlyModelViewSet",
    "TenantScopedMixin",
    "request_user",
    "exception_handler",
    "mixins",
    "router",
]


def exception_handler(exc, context):
    """Business errors answer ``{"message", "extra"}``; model validation answers 400 with field messages."""
    if isinstance(exc, ApplicationError):
        return Response({"message": exc.message, "extra": exc.extra}, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        extra = validation_extra(exc)
        return Response({"message": "The request is not valid.", "extra": extra}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        response.data = {"message": "The request is not valid.", "extra": response.data}
    elif response is not None and isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"message": str(response.data["detail"]), "extra": {}}
    return response
