"""Log formatting: plain text by default, one JSON object per line with ``LOG_FORMAT=json``.

Every record carries ``request_id`` (``-`` outside a request or task): a record factory sets it
when the record is made, so every handler sees it, and ``RequestIDFilter`` on the console
handler fills it in for a record made before this module was imported.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from tmw.request_id import get_request_id

# Attributes every LogRecord has; anything else on a record came in through ``extra=``.
_RECORD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id"}
NO_REQUEST = "-"


class RequestIDFilter(logging.Filter):
    """Adds ``request_id`` to a record that has none (``-`` outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = get_request_id() or NO_REQUEST
        return True


def _install_record_factory() -> None:
    previous = logging.getLogRecordFactory()
    if getattr(previous, "adds_request_id", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = get_request_id() or NO_REQUEST
        return record

    factory.adds_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


_install_record_factory()


class JSONFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, request id, message, every ``extra`` field, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None) or get_request_id() or NO_REQUEST,
            "message": record.getMessage(),
        }
        entry.update({key: value for key, value in vars(record).items() if key not in _RECORD_ATTRS})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


def worker_log_format(logger: logging.Logger | None = None, **kwargs: Any) -> None:
    """``after_setup_logger``: with ``LOG_FORMAT=json`` a Celery worker's handlers write JSON too."""
    from django.conf import settings

    if logger is None or getattr(settings, "LOG_FORMAT", "text") != "json":
        return
    for handler in logger.handlers:
        handler.setFormatter(JSONFormatter())
