"""One id per request, on every log line, error page, error report and the tasks the request queued.

``RequestIDMiddleware`` takes a sane incoming ``X-Request-ID`` header (the load balancer's) or
makes one, keeps it in a context variable for the rest of the request, and answers it in the
``X-Request-ID`` response header. ``tmw.logging`` puts it on every log record. Tasks carry it in
their message headers (``before_task_publish``) and the worker sets it while the task runs
(``task_prerun``); a task that no request queued (beat) gets an id of its own.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from celery import signals
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
TASK_HEADER = "request_id"
PUBLISHED_HEADER = "published_at"
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def new_request_id() -> str:
    """A fresh id: 32 hex digits."""
    return uuid.uuid4().hex


def sane_request_id(value: str | None) -> str | None:
    """The incoming id if it is short and plain (letters, digits, ``.-_:``), else ``None``."""
    if value and _SANE.fullmatch(value):
        return value
    return None


def get_request_id() -> str | None:
    """The id of the request (or task) being handled, ``None`` outside one."""
    return _request_id.get()


def set_request_id(value: str | None) -> None:
    """Set the current id (the worker does, for each task)."""
    _request_id.set(value)


class RequestIDMiddleware:
    """Give every request an id, in a context variable and in the ``X-Request-ID`` response header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = sane_request_id(request.headers.get(HEADER)) or new_request_id()
        # Kept until the response is closed (request_finished), so that Django's own log line for a
        # 4xx/5xx answer, written after the middleware returned, still carries it.
        _request_id.set(request_id)
        request.request_id = request_id  # type: ignore[attr-defined]
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


@receiver(request_finished)
def _forget_request_id(**kwargs: Any) -> None:
    _request_id.set(None)


def task_header(request: Any, name: str) -> Any:
    """A custom message header of a running task: on the request in a worker, under ``headers`` in-process."""
    value = request.get(name)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(name)
    return value


@signals.before_task_publish.connect
def _add_task_headers(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """Put the current request id and the publish time in the message headers of every task sent."""
    if headers is None:
        return
    request_id = get_request_id()
    if request_id and not headers.get(TASK_HEADER):
        headers[TASK_HEADER] = request_id
    headers.setdefault(PUBLISHED_HEADER, datetime.now(tz=UTC).isoformat())


@signals.task_prerun.connect
def _enter_task_request_id(task: Any = None, **kwargs: Any) -> None:
    """In a worker, run the task under the id it was sent with (or a new one); in-process, keep the caller's."""
    if task is None:
        return
    sent_with = sane_request_id(task_header(task.request, TASK_HEADER))
    if getattr(task.request, "is_eager", False):
        if sent_with:
            _request_id.set(sent_with)
        return
    _request_id.set(sent_with or new_request_id())


@signals.task_postrun.connect
def _leave_task_request_id(task: Any = None, **kwargs: Any) -> None:
    if task is not None and not getattr(task.request, "is_eager", False):
        _request_id.set(None)
