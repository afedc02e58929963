"""The one error type for business rules, shared by pages and the API."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class ApplicationError(Exception):
    """A business rule said no; carries a human message and optional details.

    The API answers it as ``{"message": ..., "extra": {...}}`` with ``status`` (400 or 409);
    pages show the message to the user.
    """

    def __init__(self, message: str, *, extra: dict | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
        self.status = status


def validation_extra(exc: ValidationError) -> dict:
    """A Django ``ValidationError`` as the error shape's ``extra``: messages by field, else ``non_field_errors``."""
    return exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}


def application_error_from(message: str, exc: ValidationError) -> ApplicationError:
    """The ``ApplicationError`` for a model that failed ``full_clean()``, with its field messages."""
    return ApplicationError(message, extra=validation_extra(exc))
