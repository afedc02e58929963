"""Emails about missing revenue reports."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.conf import settings

from commissions.services._common import (
    Actor,
    _month,
)
from tmw.accounts import policy
from tmw.accounts.models import Role
from tmw.months import month_label

__all__ = [
    "missing_reports_notify",
]


def missing_reports_notify(*, period: datetime.date, actor: Actor) -> int:
    """Email finance the accounts without a revenue report for ``period``, and each vendor's admins theirs.

    Returns the number of emails sent. Call inside the operator scope.
    """
    from django.core.mail import send_mass_mail

    from commissions.selectors import MissingReport, missing_revenue_reports
    from tmw.accounts.models import User

    policy.require(actor, "statement.notify", "send reminders about missing revenue reports")
    period = _month(period)
    missing = missing_revenue_reports(period=period)
    if not missing:
        return 0
    month = f"{month_label(period)}"
    by_vendor: dict[int, list[MissingReport]] = defaultdict(list)
    for item in missing:
        by_vendor[item.vendor_id].append(item)
    messages = []
    finance = list(
        User.objects.filter(role=Role.FINANCE, is_active=True).values_list("email", flat=True).order_by("email")
    )
    if finance:
        body = "\n".join(f"- {item.vendor}: {item.account}" for item in missing)
        messages.append(
            (
                f"{len(missing)} revenue report{'s' if len(missing) != 1 else ''} missing for {month}",
                f"These attributed accounts have no revenue report for {month}:\n\n{body}\n",
                settings.DEFAULT_FROM_EMAIL,
                finance,
            )
        )
    admins: dict[int, list[str]] = defaultdict(list)
    for vendor_id, email in (
        User.objects.filter(role=Role.VENDOR_ADMIN, is_active=True, organisation_id__in=list(by_vendor))
        .order_by("email")
        .values_list("organisation_id", "email")
    ):
        admins[vendor_id].append(email)
    for vendor_id, items in by_vendor.items():
        if not admins.get(vendor_id):
            continue
        body = "\n".join(f"- {item.account}" for item in items)
        messages.append(
            (
                f"Please report {month} revenue for {len(items)} account{'s' if len(items) != 1 else ''}",
                f"Your statement for {month} needs the recurring revenue of these accounts:\n\n{body}\n\n"
                "Report it in the portal (CSV upload) or through the API.",
                settings.DEFAULT_FROM_EMAIL,
                admins[vendor_id],
            )
        )
    return send_mass_mail(messages, fail_silently=False)
