"""The revenue grid of a month, where finance enters every attributed account's recurring revenue."""

from __future__ import annotations

import datetime
from collections import OrderedDict

from django.contrib import messages
from django.db import transaction
from django.shortcuts import render
from django.urls import reverse

from commissions import imports, services
from commissions.forms import (
    last_month,
)
from commissions.limits import bounded_amount
from commissions.models import (
    RevenueReport,
)
from tmw import months
from tmw.accounts.permissions import allow
from tmw.errors import ApplicationError
from tmw.months import format_month, month_label
from tmw.web import htmx_redirect


def _period_from(request, default: datetime.date) -> datetime.date:
    return months.parse_month_or_none(request.GET.get("period", "")) or default


@allow("revenue.workspace")
def revenue_list(request):
    """The revenue grid of a month: every attributed account, its reported MRR, and the ones still missing."""
    period = _period_from(request, last_month())
    if request.method == "POST":
        period = months.parse_month_or_none(request.POST.get("period", "")) or period
    attributions = list(
        imports.attributions_in_period(period).order_by("vendor__name", "msp__name").select_related("engagement")
    )
    reports = {
        r.attribution_id: r
        for r in RevenueReport.objects.filter(attribution__in=[a.pk for a in attributions], period=period)
    }
    errors: dict[int, str] = {}
    values: dict[int, str] = {}
    if request.method == "POST":
        changes = []
        for a in attributions:
            raw = request.POST.get(f"amount-{a.pk}", "").strip()
            values[a.pk] = raw
            if raw == "":
                continue
            try:
                amount = bounded_amount(raw, f"amount-{a.pk}")
            except ApplicationError as exc:
                errors[a.pk] = exc.message
                continue
            existing = reports.get(a.pk)
            if existing is None or existing.amount != amount:
                changes.append((a, amount))
        if not errors and changes:
            with transaction.atomic():
                for a, amount in changes:
                    try:
                        services.revenue_report_record(
                            attribution=a,
                            period=period,
                            amount=amount,
                            currency=a.engagement.agreement.currency,
                            source=RevenueReport.Source.FINANCE,
                            actor=request.user,
                        )
                    except ApplicationError as exc:
                        errors[a.pk] = exc.message
                if errors:
                    transaction.set_rollback(True)
        if not errors:
            messages.success(request, f"Revenue for {month_label(period)} saved: {len(changes)} account(s) changed.")
            return htmx_redirect(request, reverse("commissions:revenue_list") + f"?period={format_month(period)}")
        messages.error(request, "Nothing was saved: fix the amounts marked below.")
    rows = []
    by_vendor: OrderedDict = OrderedDict()
    for a in attributions:
        report = reports.get(a.pk)
        row = {
            "attribution": a,
            "report": report,
            "value": values.get(a.pk, "" if report is None else f"{report.amount}"),
            "error": errors.get(a.pk, ""),
            "currency": a.engagement.agreement.currency,
        }
        rows.append(row)
        by_vendor.setdefault(a.vendor, []).append(row)
    missing = [r for r in rows if r["report"] is None]
    context = {
        "period": period,
        "previous": months.add_months(period, -1),
        "next": months.add_months(period, 1) if period < last_month() else None,
        "by_vendor": by_vendor,
        "rows": rows,
        "missing": missing,
        "is_last_month": period == last_month(),
    }
    return render(request, "commissions/revenue_list.html", context, status=400 if errors else 200)


# --- Statement runs
