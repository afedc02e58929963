"""The one error type for business rules, shared by pages and the API."""

from __future__ import annotations


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
