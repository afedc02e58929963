"""Navigation for the base layout: each entry shows for whoever the policy lets take its action."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from . import policy

# (label, url name, the policy action that shows it; None: everyone logged in). An unknown action
# fails at import time. Later apps add their entries here.
NAVIGATION: list[tuple[str, str, str | None]] = [
    ("Home", "dashboard:home", None),
    ("Diagnostics", "diagnostics:diagnostic_list", "diagnostic.workspace"),
    ("MSP directory", "directory:msp_list", "directory.manage"),
    ("Bookings", "booking:booking_list", "booking.view"),
    ("Desks", "engagements:engagement_list", "engagement.workspace"),
    ("Community", "community:event_list", "event.workspace"),
    ("Statements", "commissions:statement_list", "terms.view"),  # the operators' list; vendors have the portal's
    ("Revenue", "commissions:revenue_list", "statement.run"),  # the revenue that statement runs bill
    ("Agreements", "commissions:agreement_list", "terms.view"),
    ("Diagnostic", "diagnostics:portal", "diagnostic.portal"),
    ("Desk", "engagements:portal", "engagement.portal"),
    ("Events", "community:vendor_events", "event.vendor_view"),
    ("Statements", "commissions:portal_statements", "statement.portal"),
    ("Invitations", "community:msp_invitations", "invitation.portal"),
    ("People", "accounts:people", "people.view"),
    ("Team", "accounts:team", "team.view"),
    ("API docs", "api-docs", "api.use"),
    ("Admin", "admin:index", "admin.site"),
]
for _label, _name, _action in NAVIGATION:
    if _action is not None:
        policy.roles_for(_action)


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for label, name, action in NAVIGATION:
        if action is not None and not policy.can(user, action):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        active = request.path == url if url == "/" else request.path.startswith(url)
        items.append({"label": label, "url": url, "active": active})
    return {"nav_items": items}
