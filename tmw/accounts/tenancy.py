"""Tenant scoping that fails closed.

Every organisation-owned row is read through a ``TenantManager``. A query on such a
manager outside an active scope raises ``ScopeError`` instead of returning every
tenant's rows (django-scopes does the bookkeeping). A scope is a tuple of organisation
ids under the ``tenant`` dimension: a vendor user's scope is its vendor, an MSP user's
scope is its MSP, an anonymous visitor's scope is empty. Operators (TMW partners,
finance and admins) work across tenants; ``scope_for_user`` is the one place that
disables scoping for them.

Tenant-owned models extend ``TenantOwnedModel`` and name their path(s) to the owning
organisation in ``tenant_paths``; ``objects`` is scoped, ``all_objects`` is not.

When code may read without the scope
------------------------------------
Code reads tenant data through ``objects``, inside the scope its caller opened. Only three
kinds of entry point open ``operator_scope()``: ``scope_for_user`` (requests of operators),
``tmw.tasks.TenantTask`` (tasks, which load their rows by pk inside it) and management
commands and demo data. Code running inside them still uses ``objects``.

The unscoped manager ``all_objects`` (or ``scopes_disabled``) is allowed for these reasons
only, and each use says which in a comment ``# unscoped: <reason>`` next to it:

- ``lock``: re-reading, ``FOR UPDATE``, a row the caller already holds (it was loaded in
  scope), or a periodic job claiming rows; the lock must not depend on who asks.
- ``unique``: a uniqueness, idempotency or sequence check that must see every tenant's
  rows (one open invitation per email, one agreement per engagement, the next position).
- ``shared``: rows of other tenants that an action needs by design: an event's RSVPs,
  invitations and pitch slots across MSPs and vendors (capacity, counts, line-ups); the
  MSPs a vendor may add to its pipeline; the visibility rules of a manager itself.
- ``token``: a signed link is the authority (an emailed RSVP or invitation link, used
  without logging in), so the row is found by the id the link carries.
- ``operator``: set-based statement generation, which runs only inside
  ``operator_scope()`` and builds ``INSERT … SELECT`` and subqueries that must not carry
  a scope filter.

Creating rows needs no exemption (``objects.create`` and ``bulk_create`` are allowed in
any scope: a row names its own tenant). Anything else uses ``objects``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

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
    "TenantOwnedManager",
    "TenantOwnedModel",
    "TenantQuerySet",
    "TenantScopedManager",
    "active_tenant_ids",
    "operator_scope",
    "scope_for_user",
    "tenant_models",
    "tenant_scope",
]


_M = TypeVar("_M", bound=models.Model)


class TenantQuerySet(models.QuerySet[_M]):
    """A queryset of tenant data that applies the tenant scope active when it runs.

    Inside a tenant scope the manager filters the queryset at once; in any case, when the
    queryset is evaluated (iterated, counted, updated, deleted, or nested with ``__in``)
    the filter of the scope active at that moment is applied on top, and with no scope
    active at all it raises ``ScopeError``. So a queryset declared at import time (forms,
    serializers, filters), outside any scope, is composed freely and scoped per request.
    Creating rows is allowed (the row names its own tenant).
    """

    tenant_condition: Callable[[tuple[int, ...]], Q] | None = None

    def _resolved(self) -> models.QuerySet[_M]:
        """A plain queryset with the active scope's filter applied (raises when no scope is active)."""
        current = get_scope()
        enabled = current.get("_enabled", True)
        if enabled and (DIMENSION not in current or self.tenant_condition is None):
            raise ScopeError(
                f"{self.model.__name__} is tenant data: activate a tenant scope (or operator_scope) to query it."
            )
        source: Any = self  # Django's queryset internals are not in the type stubs
        qs: Any = models.QuerySet(model=self.model, query=self.query.chain(), using=source._db, hints=source._hints)
        qs._sticky_filter = source._sticky_filter
        qs._for_write = source._for_write
        qs._prefetch_related_lookups = source._prefetch_related_lookups[:]
        qs._known_related_objects = source._known_related_objects
        qs._iterable_class = source._iterable_class
        qs._fields = source._fields
        if enabled and self.tenant_condition is not None:
            ids = tuple(current[DIMENSION] or ())
            if ids:
                qs.query.add_q(self.tenant_condition(ids))
            else:
                qs.query.set_empty()
        resolved: models.QuerySet[_M] = qs
        return resolved

    if not TYPE_CHECKING:
        # Django internals that the type stubs do not declare; type checkers see QuerySet's own methods.

        def none(self):
            clone = models.QuerySet(model=self.model, query=self.query.chain(), using=self._db, hints=self._hints)
            return clone.none()

        def _clone(self):
            clone = super()._clone()
            clone.tenant_condition = self.tenant_condition
            return clone

        def _fetch_all(self):
            key = _scope_key()
            if self._result_cache is not None and getattr(self, "_cache_scope", key) != key:
                self._result_cache = None  # results fetched in another scope are not this scope's
                self._prefetch_done = False
            if self._result_cache is None:
                resolved = self._resolved()
                resolved._fetch_all()
                self._result_cache = resolved._result_cache
                self._prefetch_done = resolved._prefetch_done
                self._cache_scope = key

        def _delegate(name: str):  # noqa: N805
            def method(self, *args, **kwargs):
                return getattr(self._resolved(), name)(*args, **kwargs)

            method.__name__ = name
            return method

        count = _delegate("count")
        exists = _delegate("exists")
        contains = _delegate("contains")
        aggregate = _delegate("aggregate")
        iterator = _delegate("iterator")
        update = _delegate("update")
        _update = _delegate("_update")
        delete = _delegate("delete")
        _raw_delete = _delegate("_raw_delete")
        explain = _delegate("explain")
        resolve_expression = _delegate("resolve_expression")
        del _delegate

        def _combinator_query(self, combinator, *other_qs, all=False):  # noqa: A002
            # A union of tenant querysets is scoped on each side, now.
            others = [o._resolved() if isinstance(o, TenantQuerySet) else o for o in other_qs]
            return self._resolved()._combinator_query(combinator, *others, all=all)


def _scope_key() -> tuple[bool, tuple[int, ...]]:
    current = get_scope()
    return (current.get("_enabled", True), tuple(current.get(DIMENSION) or ()))


def _tenant_condition(lookups: tuple[str, ...], ids: tuple[int, ...]) -> Q:
    if not lookups:  # fail closed: a manager without a path to its tenant shows nothing
        raise ScopeError("This tenant-owned model names no path to its organisation (tenant_paths).")
    condition = Q()
    for lookup in lookups:
        condition |= Q(**{f"{lookup}__in": ids})
    return condition


class TenantScopedManager(models.Manager[_M], Generic[_M]):
    """Base of fail-closed managers: subclasses say which rows ``tenant_condition(ids)`` lets through."""

    tenant_lookups: tuple[str, ...] = ()

    def tenant_condition(self, ids: tuple[int, ...]) -> Q:
        return _tenant_condition(self.tenant_lookups, ids)

    def get_queryset(self) -> TenantQuerySet[_M]:
        qs: TenantQuerySet[_M] = TenantQuerySet(self.model, using=self._db)
        qs.tenant_condition = self.tenant_condition
        current = get_scope()
        if current.get("_enabled", True) and DIMENSION in current:
            # Filter now as well, so the queryset is scoped even where Django reads its SQL
            # directly (Exists, Subquery); evaluation applies the scope active then on top.
            ids = tuple(current[DIMENSION] or ())
            if ids:
                qs.query.add_q(self.tenant_condition(ids))
            else:
                qs.query.set_empty()
        return qs


class TenantOwnedManager(TenantScopedManager[_M]):
    """The scoped manager of a ``TenantOwnedModel``: its paths are the model's ``tenant_paths``."""

    def tenant_condition(self, ids: tuple[int, ...]) -> Q:
        # A model inherits its managers as copies bound to it: read the paths from the model.
        return _tenant_condition(tuple(getattr(self.model, "tenant_paths", ())), ids)


class TenantOwnedModel(models.Model):
    """Base of every vendor- or MSP-owned model: a fail-closed ``objects``, an unscoped ``all_objects``.

    A subclass names the path(s) from its rows to the owning organisation in
    ``tenant_paths`` (``("vendor",)``, ``("engagement__vendor",)``, or several, ORed); a
    subclass with its own ``Meta`` extends ``TenantOwnedModel.Meta`` so that related
    objects are still loaded through the unscoped base manager (a row already in hand
    may follow its foreign keys whatever the scope).
    """

    tenant_paths: ClassVar[tuple[str, ...]] = ()

    objects = TenantOwnedManager()
    all_objects = models.Manager()

    class Meta:
        abstract = True
        base_manager_name = "all_objects"


def TenantManager(  # noqa: N802
    *lookups: str, manager_class: type[models.Manager[Any]] = models.Manager
) -> TenantScopedManager[Any]:
    """Build a manager that filters rows to the active tenants through any of ``lookups``.

    ``lookups`` are paths to the owning organisation (``"vendor"``, ``"msp"``,
    ``"engagement__vendor"``); a row is visible when any of them is in scope. Models
    extend ``TenantOwnedModel`` instead; this builds managers with a custom base class.
    """
    if not lookups:
        raise ValueError("TenantManager needs at least one lookup to the owning organisation.")

    class Manager(TenantScopedManager[Any], manager_class):  # type: ignore[misc,valid-type]
        tenant_lookups = lookups

    Manager.__name__ = f"TenantManager[{', '.join(lookups)}]"
    return Manager()


def tenant_models() -> list[type[models.Model]]:
    """Every installed model whose default manager is tenant-scoped."""
    from django.apps import apps

    return [m for m in apps.get_models() if isinstance(m._default_manager, TenantScopedManager)]


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


def scope_for_user(user: Any) -> AbstractContextManager[None]:
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
