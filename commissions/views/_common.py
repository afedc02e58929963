"""What the commissions pages share: the lifecycle actions each statement status offers, and who may take them."""

from __future__ import annotations

from commissions.models import Statement

# Which lifecycle action a statement in each status offers (the services enforce the rules).
ACTIONS: dict[str, tuple[str, ...]] = {
    Statement.Status.DRAFT: ("approve",),
    Statement.Status.APPROVED: ("issue",),
    Statement.Status.ISSUED: ("pay", "void"),
    Statement.Status.PAID: (),
    Statement.Status.VOID: (),
}

# The policy action behind each lifecycle action: a page offers only what the viewer may do.
ACTION_POLICY: dict[str, str] = {
    "approve": "statement.approve",
    "issue": "statement.issue",
    "pay": "statement.pay",
    "void": "statement.void",
}
