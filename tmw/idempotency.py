"""``Idempotency-Key`` on API writes: a retry with the same key answers what the first request answered.

A client that may send a write twice (a timeout, a retried job) sends a key of its choosing, at most 100
characters, in the ``Idempotency-Key`` header. The first successful answer (status and body) is kept in
``IdempotencyRecord``, keyed by (user, key, route); a retry with the same key and the same body gets that
answer again, with ``Idempotent-Replayed: true``, and does nothing. The same key with another body answers
409 naming the header. A refused request (4xx) keeps nothing, so a corrected retry may reuse its key.

A record is kept for ``IDEMPOTENCY_KEEP_DAYS`` (7 by default); the daily housekeeping task
(``ops.housekeeping``) deletes older ones, so a retry sent later than that is a new request.

The write and its record are one transaction: two requests with the same key at once give one write (the
second waits on the unique constraint, then replays the first answer). Revenue reports keep their own
replay (``commissions.services.revenue``), which also spans the colleagues of one vendor.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from tmw.accounts.models import IdempotencyRecord
from tmw.errors import ApplicationError

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 100

# For ``extend_schema(parameters=[IDEMPOTENCY_PARAMETER])`` on every write that honours the header.
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any string of at most 100 characters. A retry with the same key and body answers as the first request "
        "did (with `Idempotent-Replayed: true`) and changes nothing; the same key with another body is a 409. "
        f"A key is remembered for {settings.IDEMPOTENCY_KEEP_DAYS} days."
    ),
)
# Records are deleted this many at a time: no single statement holds its locks for long on a large table.
PURGE_BATCH = 5000


def idempotency_key(request: Request) -> str | None:
    """The request's key, stripped; None when absent or empty; a 400 naming the header when too long."""
    key = (request.headers.get(HEADER) or "").strip()
    if not key:
        return None
    if len(key) > MAX_KEY_LENGTH:
        message = f"At most {MAX_KEY_LENGTH} characters."
        raise ApplicationError(f"The {HEADER} header is too long.", extra={HEADER: [message]})
    return key


def request_hash(request: Request) -> str:
    """SHA-256 of what the request asks for: its body as parsed (key order does not matter)."""
    try:
        data: Any = request.data
    except Exception:  # noqa: BLE001  # an unreadable body is refused by the view itself, after this
        data = None
    if hasattr(data, "dict"):
        data = data.dict()
    body = json.dumps(data, sort_keys=True, cls=DjangoJSONEncoder, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def _replay(record: IdempotencyRecord, digest: str) -> Response:
    if record.request_hash != digest:
        raise ApplicationError(
            f"This {HEADER} was already used with another body.",
            extra={HEADER: ["Already used with another body on this route; send a new key."]},
            status=409,
        )
    response = Response(record.body, status=record.status)
    response["Idempotent-Replayed"] = "true"
    return response


def _find(user_id: int, key: str, route: str) -> IdempotencyRecord | None:
    return IdempotencyRecord.objects.filter(user_id=user_id, key=key, route=route).first()


def idempotent(method: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate an API view method that writes: it honours ``Idempotency-Key`` as the module says."""

    @functools.wraps(method)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = idempotency_key(request)
        user_id = getattr(request.user, "pk", None)
        if key is None or user_id is None:
            return method(view, request, *args, **kwargs)
        route = f"{request.method} {request.path}"[:300]
        digest = request_hash(request)
        earlier = _find(user_id, key, route)
        if earlier is not None:
            return _replay(earlier, digest)
        try:
            with transaction.atomic():
                response = method(view, request, *args, **kwargs)
                if 200 <= response.status_code < 300 and hasattr(response, "data"):
                    body = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
                    IdempotencyRecord.objects.create(
                        user_id=user_id,
                        key=key,
                        route=route,
                        request_hash=digest,
                        status=response.status_code,
                        body=body,
                    )
        except IntegrityError:
            # Another request with the same key committed first: this one's write was rolled back with it.
            earlier = _find(user_id, key, route)
            if earlier is None:
                raise
            return _replay(earlier, digest)
        return response

    return wrapper


def idempotency_records_purge(*, before: datetime) -> int:
    """Delete the records written before ``before``, a batch at a time; returns how many. Idempotent.

    No audit row: a record is the API's own bookkeeping, not a business action.
    """
    deleted = 0
    while True:
        batch = list(IdempotencyRecord.objects.filter(created_at__lt=before).values_list("pk", flat=True)[:PURGE_BATCH])
        if not batch:
            return deleted
        deleted += IdempotencyRecord.objects.filter(pk__in=batch).delete()[0]
