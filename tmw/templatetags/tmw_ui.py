"""Template tags shared by every page: the one status badge.

Loaded as a builtin (see ``TEMPLATES`` in settings), so templates need no ``{% load %}``.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html

register = template.Library()

#: Colour of each status value, per model (``Model._meta.model_name``). A value not
#: listed gets the model's ``"*"`` colour, or the plain grey badge.
STATUS_COLOURS: dict[str, dict[str, str]] = {
    "diagnostic": {"complete": "green", "in_review": "blue", "draft": "amber"},
    "booking": {"confirmed": "green", "cancelled": "red", "converted": "blue"},
    "engagement": {"active": "green", "paused": "amber", "terminated": "red", "*": "blue"},
    "milestone": {"done": "green", "blocked": "red", "in_progress": "blue", "planned": "amber"},
    "statementrun": {"done": "green", "failed": "red", "*": "blue"},
    "statement": {"draft": "amber", "approved": "blue", "issued": "blue", "paid": "green", "void": "red"},
    "rsvp": {"going": "green", "waitlisted": "amber", "*": "red"},
    "invitation": {"accepted": "green", "pending": "blue", "*": "amber"},
}


def badge_class(obj) -> str:
    """The CSS classes of ``obj``'s status badge, e.g. ``"badge badge-green"``."""
    colours = STATUS_COLOURS.get(obj._meta.model_name, {})
    colour = colours.get(obj.status, colours.get("*", ""))
    return f"badge badge-{colour}" if colour else "badge"


def badge_label(obj) -> str:
    """The human label of ``obj``'s status: its choice label, or the value itself."""
    display = getattr(obj, "get_status_display", None)
    label = display() if callable(display) else str(obj.status)
    if getattr(obj, "is_credit_note", False):
        label = f"Credit note · {label}"
    return label


@register.simple_tag
def status_badge(obj, suffix: str = "") -> str:
    """``{% status_badge statement %}`` → ``<span class="badge badge-green">Paid</span>``.

    ``suffix`` is appended inside the badge (a waitlist position, for example).
    """
    if obj is None:
        return ""
    return format_html('<span class="{}">{}{}</span>', badge_class(obj), badge_label(obj), suffix)


@register.simple_tag
def field_label(field, text: str = "") -> str:
    """A bound field's ``<label>``, marked ``required`` for the stylesheet's asterisk.

    ``text`` replaces the field's own label.
    """
    attrs = {"class": "required"} if field.field.required else None
    return field.label_tag(contents=text or None, attrs=attrs)
