"""Rendered pages kept per user until the next write to the database, or for at most a minute.

A page the user loaded a moment ago is served again from the cache while nothing in the database has
changed: one *generation* number in the shared cache names the state of the data, and every statement
that writes (``INSERT``, ``UPDATE``, ``DELETE``, DDL, ...) through any of the app's connections, in the
web processes and the Celery workers alike, moves it on. The watch sits on the database connection, so
no service, task, bulk update or raw SQL can change data the pages show without invalidating them, and
nothing has to remember to.

The generation moves at each write, so that the writer's own next page is fresh, and once more after the
commit of a transaction that wrote, so that a page another process rendered from the data as it was
before the commit is never served once the commit is visible.

A page's key holds the generation, the user, the path with its query string, the htmx headers the view
reads and the current minute (times such as "due in 3 days" or "overdue" follow the clock). Only
``GET`` answers of 200 to logged-in users are kept, never one that shows a flash message, and never
without a shared cache (``PAGE_CACHE_SECONDS`` is 0 unless ``REDIS_URL`` is set: several processes
with caches of their own could not see each other's writes). The CSRF token is kept out of the stored
page and written in for each request. ``Cache-Control: no-cache`` on the request (a browser's hard
reload) renders the page afresh. Each answer says ``X-Page-Cache: hit`` or ``miss``.

Views opt in: ``@cached_page`` below the policy's ``@allow`` (the door is checked on every request),
and API list views through ``CachedListMixin``, after DRF's authentication, permissions and throttles.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db.backends.signals import connection_created
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone
from rest_framework.response import Response

logger = logging.getLogger("tmw")

GENERATION_KEY = "pagecache:generation"
# Written where the page's CSRF token goes, and replaced by the request's own token on the way out.
CSRF_PLACEHOLDER = "pagecache-csrf-token-placeholder"
_WRITES = ("INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "CREATE", "DROP", "ALTER", "COPY", "REPLACE")
_WRITE_IN_WITH = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE)\b")
# Writes that move no page on: no page shows the session table (logins and logouts write it), and the worker's
# and beat's heartbeats (a row a minute) show only as ok or stale, which the minute in every key already follows.
_UNSEEN_TABLES = ('"django_session"', '"ops_heartbeat"')
_NOT_KEPT_HEADERS = {"content-length", "x-page-cache"}
_HTMX_HEADERS = ("HTTP_HX_REQUEST", "HTTP_HX_TARGET", "HTTP_HX_TRIGGER", "HTTP_HX_BOOSTED")


def seconds() -> int:
    return int(getattr(settings, "PAGE_CACHE_SECONDS", 0))


# --- the generation ----------------------------------------------------------------------------------


def generation() -> int | None:
    try:
        value = cache.get(GENERATION_KEY)
        if value is None:
            # A clock reading, not 1: after the key is lost, no number a stored page was keyed on comes back.
            cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
            value = cache.get(GENERATION_KEY)
    except Exception:  # the cache is down: pages are rendered afresh, never served stale
        logger.warning("page cache: the generation could not be read", exc_info=True)
        return None
    return value


def invalidate() -> None:
    """Move the generation on: every stored page is out of date."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # no generation yet
        cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
    except Exception:  # a page may stay stale for at most PAGE_CACHE_SECONDS
        logger.warning("page cache: the generation could not be moved on", exc_info=True)


def is_write(sql: str) -> bool:
    """Whether a statement may change data (a ``WITH`` that names a write counts, even in a lock clause)."""
    stripped = sql.lstrip(" \n\t(")
    head = stripped[:80].upper()
    if head.startswith(_WRITES):
        return not any(table.upper() in head for table in _UNSEEN_TABLES)
    return head.startswith("WITH") and _WRITE_IN_WITH.search(stripped.upper()) is not None


def _written(connection) -> None:
    # Now: the writer's own next page (inside its transaction, it alone sees the write) is fresh.
    invalidate()
    # And at the commit, once for the transaction: a page rendered meanwhile from the data as it was is not kept.
    if connection.in_atomic_block and not any(func is invalidate for _, func, _ in connection.run_on_commit):
        connection.on_commit(invalidate)


def _watch(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    if isinstance(sql, str) and seconds() > 0 and is_write(sql):
        _written(context["connection"])
    return result


def watch_connection(sender, connection, **kwargs) -> None:
    """Put the write watch on a database connection (connected to ``connection_created``)."""
    if _watch not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch)


def install() -> None:
    """Watch every connection the process opens (the watch does nothing while ``PAGE_CACHE_SECONDS`` is 0)."""
    connection_created.connect(watch_connection, dispatch_uid="tmw.pagecache.watch")


# --- keys and answers ----------------------------------------------------------------------------------


def _minute() -> int:
    """The current minute, in every key: a kept page is at most a minute old."""
    return int(timezone.now().timestamp() // 60)


def _key(request, kind: str, extra: str = "") -> str | None:
    if seconds() <= 0 or request.method != "GET":
        return None
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    current = generation()
    if current is None:
        return None
    minute = _minute()
    varies = "|".join(request.META.get(header, "") for header in _HTMX_HEADERS)
    digest = hashlib.sha256(f"{request.get_full_path()}|{varies}|{extra}".encode()).hexdigest()[:32]
    return f"pagecache:{kind}:{current}:{user.pk}:{minute}:{digest}"


def _wants_fresh(request) -> bool:
    return "no-cache" in request.META.get("HTTP_CACHE_CONTROL", "").lower()


def _has_messages(request) -> bool:
    storage = getattr(request, "_messages", None)
    return storage is not None and len(messages.get_messages(request)) > 0


def _with_token(request, content: bytes) -> bytes:
    placeholder = CSRF_PLACEHOLDER.encode()
    if placeholder not in content:
        return content
    return content.replace(placeholder, get_token(request).encode())


def _stored(key: str) -> Any:
    try:
        return cache.get(key)
    except Exception:
        logger.warning("page cache: a page could not be read", exc_info=True)
        return None


def _store(key: str, value: object) -> None:
    try:
        cache.set(key, value, seconds())
    except Exception:
        logger.warning("page cache: a page could not be stored", exc_info=True)


def _unchanged_since(key: str) -> bool:
    """The generation the key was made with is still current (the view itself wrote nothing)."""
    return key.split(":")[2] == str(generation())


def cached_page(view):
    """Serve a logged-in user's ``GET`` of this view from the cache while the data is unchanged."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        key = _key(request, "page")
        if key is None or _has_messages(request):
            return view(request, *args, **kwargs)
        if not _wants_fresh(request) and (hit := _stored(key)) is not None:
            status, headers, content = hit
            response = HttpResponse(_with_token(request, content), status=status)
            for name, value in headers:
                response[name] = value
            response["X-Page-Cache"] = "hit"
            return response
        request.pagecache_csrf_placeholder = True
        response = view(request, *args, **kwargs)
        request.pagecache_csrf_placeholder = False
        if hasattr(response, "render") and not getattr(response, "is_rendered", True):
            response.render()
        if getattr(response, "streaming", False):
            return response
        if (
            response.status_code == 200
            and not response.cookies
            and response.get("Content-Type", "").startswith("text/html")
            and not _has_messages(request)
            and _unchanged_since(key)
        ):
            headers = [(name, value) for name, value in response.items() if name.lower() not in _NOT_KEPT_HEADERS]
            _store(key, (response.status_code, headers, response.content))
        response.content = _with_token(request, response.content)
        response["X-Page-Cache"] = "miss"
        return response

    return wrapped


def csrf_placeholder(request) -> dict[str, str]:
    """Context processor: the placeholder in place of the CSRF token while a page is rendered to be kept."""
    if getattr(request, "pagecache_csrf_placeholder", False):
        return {"csrf_token": CSRF_PLACEHOLDER}
    return {}


class CachedListMixin:
    """For DRF viewsets: the serialized list kept per user (after authentication, permissions, throttles)."""

    def list(self, request, *args, **kwargs):
        renderer = getattr(request, "accepted_renderer", None)
        key = _key(request._request, "api", getattr(renderer, "format", ""))
        if key is not None and not _wants_fresh(request._request) and (hit := _stored(key)) is not None:
            response = Response(hit)
            response["X-Page-Cache"] = "hit"
            return response
        response = super().list(request, *args, **kwargs)  # type: ignore[misc]  # a mixin: the viewset has list
        if key is not None and response.status_code == 200 and _unchanged_since(key):
            _store(key, response.data)
        response["X-Page-Cache"] = "miss"
        return response
