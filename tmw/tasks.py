"""The one door for Celery tasks: the ``TenantTask`` base class and ``enqueue_on_commit``.

Every task of every app is declared with ``@shared_task(base=TenantTask, name="<app>.<verb>", ...)``:

- it takes primary keys and plain values, never model instances;
- it runs in the scope its ``scope`` option names: ``"operator"`` (the default) enters
  ``operator_scope()`` for operator-wide work, ``"tenant"`` enters the scope of the
  organisation passed as the ``organisation_id`` keyword argument, and ``"none"`` leaves
  scoping to the task body, which then says explicitly where it enters one;
- it logs its start, its end and its failure, with the ids it was given (every argument
  whose name ends in ``_id`` or ``_ids``; nothing else, so no token reaches a log), on the
  logger of its app, named after the app's package (``tmw.accounts``, ``tmw.directory``,
  ``diagnostics``, ``diagnostics.booking``, ``commissions``, ``community``), as every log of
  that app is (``LOGGING`` in settings);
- it retries only transient errors (``autoretry_for=`` or an explicit ``self.retry``) and
  always says how often with ``max_retries``; by default it does not retry at all.

Import rule: **a service never imports a tasks module.** A service enqueues a follow-up
task by its name, ``enqueue_on_commit("community.send_rsvp_email", rsvp.pk, "confirmed")``,
and a tasks module imports its app's services (and models, selectors) at the top. So
services and tasks never import each other in a circle and no import hides inside a
function. A task that fans out into other tasks of its own module may call their
``.delay`` directly: it runs outside any transaction of the caller.

A queued task carries the id of the request that queued it (``tmw.request_id``): the helper
takes it when the task is queued and sends it in the message headers, and the worker logs
the task's lines under it.

Without ``REDIS_URL`` Celery runs tasks in-process (``task_always_eager``); the helper
goes through ``apply_async`` so that keeps working, still after commit.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

from celery import Task, current_app
from celery.exceptions import Retry
from django.apps import apps as django_apps
from django.db import transaction

from tmw.accounts.tenancy import operator_scope, tenant_scope
from tmw.request_id import TASK_HEADER, get_request_id

__all__ = ["TenantTask", "enqueue_on_commit", "task_logger"]

Scope = Literal["operator", "tenant", "none"]


def task_logger(module: str) -> logging.Logger:
    """The logger of the app a tasks module belongs to: ``commissions.tasks`` logs on ``commissions``."""
    config = django_apps.get_containing_app_config(module)
    return logging.getLogger(config.name if config is not None else module.partition(".")[0])


class TenantTask(Task):
    """Base of every task: enters the tenant scope the task names, and logs start, end and failure with its ids."""

    scope: Scope = "operator"
    max_retries: int | None = 0  # a task that retries says how often

    @property
    def logger(self) -> logging.Logger:
        return task_logger(self.run.__module__)

    def handled_ids(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The arguments whose names end in ``_id`` or ``_ids``, by name: what a log line says was handled."""
        try:
            bound = inspect.signature(self.run).bind_partial(*args, **kwargs)
        except TypeError:
            return {}
        return {name: value for name, value in bound.arguments.items() if name.endswith(("_id", "_ids"))}

    @contextmanager
    def entered_scope(self, kwargs: dict[str, Any]) -> Iterator[None]:
        if self.scope == "operator":
            with operator_scope():
                yield
        elif self.scope == "tenant":
            organisation_id = kwargs.get("organisation_id")
            if organisation_id is None:
                raise TypeError(f"{self.name} runs in a tenant's scope: pass organisation_id=.")
            with tenant_scope((organisation_id,)):
                yield
        elif self.scope == "none":
            yield
        else:
            raise ValueError(f"{self.name}: unknown scope {self.scope!r}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        ids = self.handled_ids(args, kwargs)
        retries = getattr(self.request, "retries", 0) or 0
        self.logger.info("%s started %s (attempt %d)", self.name, ids, retries + 1)
        try:
            with self.entered_scope(kwargs):
                result = super().__call__(*args, **kwargs)
        except Retry:
            self.logger.warning("%s will retry %s", self.name, ids)
            raise
        except Exception:
            self.logger.exception("%s failed %s", self.name, ids)
            raise
        self.logger.info("%s finished %s", self.name, ids)
        return result


def _resolve(task: str | Task) -> Task:
    if not isinstance(task, str):
        return task
    registry = current_app.tasks
    if task not in registry:
        current_app.loader.import_default_modules()  # runs the apps' task autodiscovery
    return registry[task]


def enqueue_on_commit(task: str | Task, *args: Any, **kwargs: Any) -> None:
    """Queue a task once the current transaction commits (at once outside a transaction).

    ``task`` is a task name (what services pass: they never import a tasks module) or a
    task. Nothing is queued if the transaction rolls back. The task carries the current request id.
    """
    request_id = get_request_id()
    headers = {TASK_HEADER: request_id} if request_id else None
    send: Callable[[], object] = lambda: _resolve(task).apply_async(  # noqa: E731
        args=args, kwargs=kwargs, headers=headers
    )
    transaction.on_commit(send)
