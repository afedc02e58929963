"""What the commissions pages share: the badges of statement statuses and the actions each offers."""

from __future__ import annotations

from commissions.models import (
    Statement,
)

# Which lifecycle action a statement in each status offers (the services enforce the rules).
ACTIONS: dict[str, tuple[str, ...]] = {
    Statement.Status.DRAFT: ("approve",),
    Statement.Status.APPROVED: ("issue",),
    Statement.Status.ISSUED: ("pay", "void"),
    Statement.Status.PAID: (),
    Statement.Status.VOID: (),
}
STATUS_BADGES: dict[str, str] = {
    "draft": "badge-amber",
    "approved": "badge-blue",
    "issued": "badge-blue",
    "paid": "badge-green",
    "void": "badge-red",
}
