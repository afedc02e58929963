"""Tenant scoping that fails closed.

Every organisation-owned row is read through a ``TenantManager``. A query on such a
manager outside an active scope raises ``ScopeError`` instead of returning every
tenant's rows (django-scopes does the bookkeeping). A scope is a tuple of organisation
ids under the ``tenant`` dimension: a vendor user's scope is its vendor, an MSP user's
scope is its MSP, an anonymous visitor's scope is empty. Operators (TMW partners,
finance and admins) work across tenants; ``scope_for_user`` is the one place that
disables scoping for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import models
from django.db.models import Q
from django_scopes import scope, scopes_disabled
from django_scopes.exceptions import ScopeError
from django_scopes.state import get_scope

DIMENSION = "tenant"

__all__ = [
    "DIMENSION",
    "ScopeError",
    "TenantManager",
    "active_tenant_ids",
    "operator_scope",
    "scope_for_user",
    "tenant_models",
    "tenant_scope",
]


class UnscopedQuerySet(models.QuerySet):
    """A queryset built with no tenant scope active: it may be composed, but running it raises.

    Composing stays possible so that forms and filters declared at import time load;
    evaluating, counting, updating, deleting or nesting it as a subquery raises
    ``ScopeError``. Creating rows is allowed (the row names its own tenant).
    """

    def _refuse(self, *args, **kwargs):
        raise ScopeError(
            f"{self.model.__name__} is tenant data: activate a tenant scope (or operator_scope) to query it."
        )

    _fetch_all = _refuse
    count = _refuse
    exists = _refuse
    contains = _refuse
    aggregate = _refuse
    iterator = _refuse
    update = _refuse
    _update = _refuse
    delete = _refuse
    _raw_delete = _refuse
    explain = _refuse
    resolve_expression = _refuse

    def none(self):
        clone = models.QuerySet(model=self.model, query=self.query.chain(), using=self._db, hints=self._hints)
        return clone.none()


def TenantManager(*lookups: str, manager_class: type[models.Manager] = models.Manager):  # noqa: N802
    """Build a manager that filters rows to the active tenants through any of ``lookups``.

    ``lookups`` are paths to the owning organisation (``"vendor"``, ``"msp"``,
    ``"engagement__vendor"``); a row is visible when any of them is in scope.
    """
    if not lookups:
        raise ValueError("TenantManager needs at least one lookup to the owning organisation.")

    class Manager(manager_class):
        tenant_lookups = lookups

        def get_queryset(self):
            current = get_scope()
            qs = super().get_queryset()
            if not current.get("_enabled", True):
                return qs
            if DIMENSION not in current:
                return UnscopedQuerySet(self.model, using=self._db)
            ids = tuple(current[DIMENSION] or ())
            if not ids:
                return qs.none()
            condition = Q()
            for lookup in lookups:
                condition |= Q(**{f"{lookup}__in": ids})
            return qs.filter(condition)

    Manager.__name__ = f"TenantManager[{', '.join(lookups)}]"
    return Manager()


def tenant_models() -> list[type[models.Model]]:
    """Every installed model whose default manager is tenant-scoped."""
    from django.apps import apps

    return [m for m in apps.get_models() if hasattr(m._default_manager, "tenant_lookups")]


@contextmanager
def tenant_scope(organisation_ids: Iterable[int]) -> Iterator[None]:
    """Limit tenant data to the given organisations (an empty iterable shows nothing)."""
    ids = tuple(int(i) for i in organisation_ids if i is not None)
    with scope(**{DIMENSION: ids}):
        yield


@contextmanager
def operator_scope() -> Iterator[None]:
    """Work across every tenant: for TMW operators, management commands and periodic jobs."""
    with scopes_disabled():
        yield


def scope_for_user(user) -> contextmanager:
    """The scope a user works in: the one place where operators leave tenant scoping."""
    if user is None or not user.is_authenticated or not user.is_active:
        return tenant_scope(())
    if user.is_operator:
        return operator_scope()
    return tenant_scope((user.organisation_id,))


def active_tenant_ids() -> tuple[int, ...] | None:
    """The organisation ids in scope, or None when scoping is disabled."""
    current = get_scope()
    if not current.get("_enabled", True):
        return None
    if DIMENSION not in current:
        raise ScopeError("No tenant scope is active.")
    return tuple(current[DIMENSION] or ())
