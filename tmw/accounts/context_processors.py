"""Navigation by role for the base layout."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from .models import Role

# (label, url name, roles that see it); later apps add their entries here.
NAVIGATION = [
    ("Home", "dashboard:home", None),
    ("Diagnostics", "diagnostics:diagnostic_list", {Role.PARTNER, Role.ADMIN}),
    ("MSP directory", "directory:msp_list", {Role.PARTNER, Role.ADMIN}),
    ("Bookings", "booking:booking_list", {Role.PARTNER, Role.ADMIN}),
    ("Desks", "engagements:engagement_list", {Role.PARTNER, Role.ADMIN}),
    ("Community", "community:event_list", {Role.PARTNER, Role.ADMIN}),
    ("Statements", "commissions:statement_list", {Role.FINANCE, Role.ADMIN, Role.PARTNER}),
    ("Revenue", "commissions:revenue_list", {Role.FINANCE, Role.ADMIN}),
    ("Agreements", "commissions:agreement_list", {Role.FINANCE, Role.ADMIN, Role.PARTNER}),
    ("Diagnostic", "diagnostics:portal", {Role.VENDOR_ADMIN, Role.VENDOR_MEMBER}),
    ("Desk", "engagements:portal", {Role.VENDOR_ADMIN, Role.VENDOR_MEMBER}),
    ("Events", "community:vendor_events", {Role.VENDOR_ADMIN, Role.VENDOR_MEMBER}),
    ("Statements", "commissions:portal_statements", {Role.VENDOR_ADMIN, Role.VENDOR_MEMBER}),
    ("Invitations", "community:msp_invitations", {Role.MSP_MEMBER}),
    ("People", "accounts:people", {Role.PARTNER, Role.ADMIN}),
    ("Team", "accounts:team", {Role.VENDOR_ADMIN, Role.VENDOR_MEMBER}),
    ("API docs", "api-docs", {Role.PARTNER, Role.FINANCE, Role.ADMIN, Role.VENDOR_ADMIN}),
    ("Admin", "admin:index", {Role.ADMIN, Role.PARTNER, Role.FINANCE}),
]


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for label, name, roles in NAVIGATION:
        if roles is not None and user.role not in roles:
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        active = request.path == url if url == "/" else request.path.startswith(url)
        items.append({"label": label, "url": url, "active": active})
    return {"nav_items": items}
