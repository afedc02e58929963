"""The viewer's clock (24- or 12-hour), active for one request the way its time zone is."""

from __future__ import annotations

from contextvars import ContextVar

FORMATS = {"24h": "H:i T", "12h": "g:i A T"}
_active: ContextVar[str] = ContextVar("clock", default="24h")


def activate(clock: str) -> None:
    _active.set(clock if clock in FORMATS else "24h")


def deactivate() -> None:
    _active.set("24h")


def time_format() -> str:
    """The date-format string of a time of day for the active viewer: ``H:i T`` or ``g:i A T``."""
    return FORMATS[_active.get()]
