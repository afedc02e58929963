"""Error reporting through Sentry, on only when ``SENTRY_DSN`` is set; every event carries the request id."""

from __future__ import annotations

from typing import Any

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.transport import Transport

from tmw.request_id import get_request_id


def tag_request_id(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """``before_send``: tag the event with the id of the request or task it happened in."""
    request_id = get_request_id()
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    return event


def init_sentry(
    *,
    dsn: str,
    environment: str,
    traces_sample_rate: float = 0.0,
    transport: type[Transport] | Transport | None = None,
) -> bool:
    """Start the Sentry client for Django and Celery when ``dsn`` is set; return whether it is on.

    No personal data is sent: ``send_default_pii`` stays off by being left unset (sentry-sdk 2.75 deprecates
    passing it in favour of ``data_collection``, whose dict form opts into collecting more; unset, both mean no
    personal data). Tracing is off unless a sample rate is given.
    """
    if not dsn:
        return False
    options: dict[str, Any] = {}
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        before_send=tag_request_id,  # type: ignore[arg-type]
        **options,
    )
    return sentry_sdk.get_client().is_active()
