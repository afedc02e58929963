"""How a delivery is signed: HMAC-SHA256 over ``timestamp + "." + body`` with the endpoint's secret.

The receiver recomputes it from the ``TMW-Webhook-Timestamp`` header and the raw body, compares it in
constant time with the ``v1=`` value of ``TMW-Webhook-Signature``, and refuses a timestamp outside its
tolerance window (five minutes) so that a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

ID_HEADER = "TMW-Webhook-Id"
TIMESTAMP_HEADER = "TMW-Webhook-Timestamp"
SIGNATURE_HEADER = "TMW-Webhook-Signature"
EVENT_HEADER = "TMW-Webhook-Event"
SCHEME = "v1"
TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"  # noqa: S105  (a prefix, not a secret)
MIN_SECRET_LENGTH = 24


def new_secret() -> str:
    """A fresh signing secret: 32 random bytes, URL-safe, with a recognisable prefix."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(*, secret: str, timestamp: int, body: str | bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    raw = body.encode() if isinstance(body, str) else body
    message = str(int(timestamp)).encode() + b"." + raw
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def headers(
    *, secret: str, delivery_id: str, event_type: str, body: str, timestamp: int | None = None
) -> dict[str, str]:
    """The headers of one signed request."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return {
        ID_HEADER: delivery_id,
        TIMESTAMP_HEADER: str(ts),
        SIGNATURE_HEADER: f"{SCHEME}={signature(secret=secret, timestamp=ts, body=body)}",
        EVENT_HEADER: event_type,
    }


def verify(
    *, secret: str, body: bytes, timestamp: str, signature_header: str, tolerance: int = TOLERANCE_SECONDS, now=None
) -> bool:
    """What a receiver does (the README's snippet): the timestamp within ``tolerance`` and a ``v1`` value matching."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance:
        return False
    expected = signature(secret=secret, timestamp=ts, body=body)
    offered = [
        part.strip()[len(SCHEME) + 1 :] for part in signature_header.split(",") if part.strip().startswith(f"{SCHEME}=")
    ]
    return any(hmac.compare_digest(expected, value) for value in offered)
