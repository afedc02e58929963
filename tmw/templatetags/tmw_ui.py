"""Template tags shared by every page: the status badge, money with its currency, labels and times.

Loaded as a builtin (see ``TEMPLATES`` in settings), so templates need no ``{% load %}``.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.dateformat import time_format as clock_format
from django.utils.html import format_html

from tmw.accounts import clock

register = template.Library()

#: Colour of each status value, per model (``Model._meta.model_name``). A value not
#: listed gets the model's ``"*"`` colour, or the plain grey badge.
STATUS_COLOURS: dict[str, dict[str, str]] = {
    "diagnostic": {"complete": "green", "in_review": "blue", "draft": "amber"},
    "booking": {"confirmed": "green", "cancelled": "red", "converted": "blue"},
    "engagement": {"active": "green", "paused": "amber", "terminated": "red", "*": "blue"},
    "milestone": {"done": "green", "blocked": "red", "in_progress": "blue", "planned": "amber"},
    "statementrun": {"done": "green", "failed": "red", "*": "blue"},
    "bulkrun": {"done": "green", "failed": "red", "*": "blue"},
    "statement": {"draft": "amber", "approved": "blue", "issued": "blue", "paid": "green", "void": "red"},
    "statementdelivery": {"sent": "green", "failed": "red", "queued": "blue"},
    "statementquery": {"open": "amber", "accepted": "green", "declined": "red"},
    "rsvp": {"going": "green", "waitlisted": "amber", "*": "red"},
    "invitation": {"accepted": "green", "pending": "blue", "*": "amber"},
    "mspprofilechange": {"approved": "green", "rejected": "red", "pending": "amber"},
    "webhookendpoint": {"active": "green", "disabled": "red"},
    "webhookdelivery": {"delivered": "green", "pending": "blue", "failed": "red"},
    "webhookattempt": {"success": "green", "http_error": "amber", "*": "red"},
    "attribution": {"acknowledged": "green", "deemed": "green", "kept": "green", "disputed": "red", "pending": "amber"},
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


# --- Money with its currency -------------------------------------------------------------------------------------

#: The currency a figure is in when nothing says otherwise (an engagement without an agreement).
DEFAULT_CURRENCY = "USD"


def _grouped(value, places: int) -> str:
    amount = Decimal(value or 0).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{amount:,.{places}f}"


def format_money(value, currency: str = DEFAULT_CURRENCY, *, places: int = 0, symbol: bool = True) -> str:
    """``141500`` in USD → ``$141,500``; in CAD → ``CAD 141,500``; ``symbol=False`` always writes the code."""
    code = (currency or DEFAULT_CURRENCY).upper()
    text = _grouped(value, places)
    if symbol and code == "USD":
        return f"-${text[1:]}" if text.startswith("-") else f"${text}"
    return f"{code} {text}"


@register.filter
def in_currency(value, currency: str = DEFAULT_CURRENCY) -> str:
    """``{{ amount|in_currency:"USD" }}`` → ``$141,500`` (whole units)."""
    return format_money(value, currency)


@register.filter
def in_currency_cents(value, currency: str = DEFAULT_CURRENCY) -> str:
    """``{{ amount|in_currency_cents:"CAD" }}`` → ``CAD 1,234.50``."""
    return format_money(value, currency, places=2)


@register.filter
def per_currency(amounts) -> str:
    """Figures in several currencies, one per currency and never summed: ``USD 141,500 · CAD 20,000``.

    ``amounts`` maps a currency code to its amount. A single US-dollar figure reads ``$141,500``;
    nothing at all reads ``$0``.
    """
    items = [(code, amount) for code, amount in sorted((amounts or {}).items()) if amount]
    if not items:
        return format_money(0)
    mixed = len(items) > 1
    return " · ".join(format_money(amount, code, symbol=not mixed) for code, amount in items)


# --- Human labels ---------------------------------------------------------------------------------------------------

#: Audit verbs as people read them. A verb not listed reads as its words (see ``audit_label``).
AUDIT_LABELS: dict[str, str] = {
    "statement.generated": "Statement generated",
    "statement.approved": "Approved",
    "statement.issued": "Issued",
    "statement.paid": "Paid in full",
    "statement.payment_recorded": "Payment recorded",
    "statement.payment_reversed": "Payment reversed",
    "statement.reminder_sent": "Overdue reminder sent",
    "overdue_schedule.saved": "Reminder schedule saved",
    "bulk_run.started": "Bulk run started",
    "statement.voided": "Voided",
    "statement.credit_note_issued": "Credit note issued",
    "statement_run.started": "Statement run started",
    "agreement.created": "Agreement created",
    "agreement.terms_changed": "Terms changed",
    "retainer_tier.saved": "Retainer tier saved",
    "engagement.create": "Desk proposed",
    "engagement.team_add": "Team member added",
    "engagement.team_remove": "Team member removed",
    "engagement.milestone_update": "Milestone updated",
    "engagement.attribution_auto": "Account attributed on signing",
    "engagement.attribution_add": "Account attributed",
    "engagement.attribution_end": "Attribution ended",
    "engagement.opportunity_create": "Opportunity added",
    "engagement.opportunity_move": "Opportunity moved",
    "engagement.opportunity_update": "Opportunity updated",
    "engagement.activity_create": "Activity logged",
    "diagnostic.started": "Diagnostic started",
    "diagnostic.decided": "Decision recorded",
    "diagnostic.status_changed": "Status changed",
}


@register.filter
def audit_label(verb) -> str:
    """``{{ entry.verb|audit_label }}``: the verb's label, else its words (``a_thing.done`` → "A thing done")."""
    text = str(verb or "")
    if text in AUDIT_LABELS:
        return AUDIT_LABELS[text]
    words = text.replace(".", " ").replace("_", " ").split()
    return " ".join(words).capitalize() if words else "—"


# --- Times ------------------------------------------------------------------------------------------------------------

#: The one way a time of day is written on every page: the viewer's clock (24-hour unless they chose 12-hour on their
#: profile), in the viewer's zone, with the zone's abbreviation.
TIME_FORMAT = "H:i T"


@register.filter(expects_localtime=False)
def local_time(value, with_date: str = "") -> str:
    """``{{ dt|local_time }}`` → ``21:00 EST``; ``{{ dt|local_time:"date" }}`` → ``Tue 1 Dec 2026, 21:00 EST``.

    Rendered in the active time zone (the viewer's), whatever zone the value carries.
    """
    if not value:
        return ""
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
    else:
        return str(value)
    time_format = clock.time_format()
    fmt = f"D j M Y, {time_format}" if with_date == "date" else time_format
    return date_format(value, fmt)


@register.filter(expects_localtime=True)
def when(value, date_part: str = "") -> str:
    """A time of day on the viewer's clock, without the zone (the page names it): ``{{ dt|when }}`` → ``21:00``
    or ``9:00 PM``; ``{{ dt|when:"D j M" }}`` → ``Tue 1 Dec, 21:00``. Takes datetimes (in the active zone, or the
    zone a ``|timezone:`` filter gave) and times of day."""
    fmt = clock.time_format().removesuffix(" T")
    if isinstance(value, datetime.datetime):
        return date_format(value, f"{date_part}, {fmt}" if date_part else fmt)
    if isinstance(value, datetime.time):
        return clock_format(value, fmt)
    return "" if value in (None, "") else str(value)


@register.simple_tag
def sort_header(table, key: str, target: str = "", cls: str = "", swap: str = "outerHTML"):
    """A ``<th>`` whose link sorts the list by column ``key`` (again: the other way), keeping filters.

    ``target`` (a CSS selector) makes the link swap only the list with htmx, as the filters do.
    """
    head = table.header(key)
    class_attr = format_html(' class="{}"', cls) if cls else ""
    if not head["sortable"]:
        return format_html("<th{}>{}</th>", class_attr, head["label"])
    arrow = ("▼" if head["descending"] else "▲") if head["active"] else "↕"
    htmx = (
        format_html(' hx-get="{}" hx-target="{}" hx-swap="{}" hx-push-url="true"', head["url"], target, swap)
        if target
        else ""
    )
    return format_html(
        '<th{} aria-sort="{}"><a class="sort{}" href="{}"{}>{} <span aria-hidden="true">{}</span></a></th>',
        class_attr,
        head["aria_sort"],
        " sort-active" if head["active"] else "",
        head["url"],
        htmx,
        head["label"],
        arrow,
    )
