"""Reads shared by the commissions pages, the API, the dashboards and the tasks.

They read through the scoped managers, so a vendor user sees only its own rows and a
query outside any scope fails closed; operators call them inside their (disabled) scope.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from commissions import engine
from commissions.models import Agreement, AgreementTerms, RevenueReport, Statement, StatementQuery, StatementRun
from tmw.months import month_short_label, previous_month

if TYPE_CHECKING:
    from tmw.accounts.models import Organisation

__all__ = [
    "MissingReport",
    "agreement_terms_history",
    "convertible_running_principal",
    "equity_accrued",
    "terms_in_force",
    "finance_summary",
    "missing_revenue_reports",
    "previous_month",
]


def agreement_terms_history(*, agreement: Agreement) -> list[AgreementTerms]:
    """Every terms version of an agreement, newest first, with its revenue-share steps."""
    return list(
        AgreementTerms.objects.filter(agreement=agreement)
        .select_related("retainer_tier", "created_by")
        .prefetch_related("steps")
        .order_by("-effective_month")
    )


def terms_in_force(
    *,
    agreement: Agreement,
    period: datetime.date,
    versions: Iterable[AgreementTerms] | None = None,
    or_upcoming: bool = False,
) -> AgreementTerms | None:
    """The terms version in force in ``period``'s month: the latest whose effective month is not after it.

    With ``versions`` (prefetched, e.g. ``agreement.versions.all()``) it runs no query; without, one
    query that also loads the steps and the retainer tier. ``or_upcoming`` answers the earliest
    version still to come when none is in force yet (the agreement pages show what will apply).
    """
    month = engine.first_of_month(period)
    if versions is None:
        found = (
            AgreementTerms.objects.filter(agreement=agreement, effective_month__lte=month)
            .order_by("-effective_month")
            .prefetch_related("steps")
            .select_related("retainer_tier")
            .first()
        )
        if found is None and or_upcoming:
            found = AgreementTerms.objects.filter(agreement=agreement).order_by("effective_month").first()
        return found
    ordered = sorted(versions, key=lambda v: v.effective_month)
    in_force = [v for v in ordered if v.effective_month <= month]
    if in_force:
        return in_force[-1]
    return ordered[0] if ordered and or_upcoming else None


def equity_accrued(
    *, agreement: Agreement, through: datetime.date | None = None, excluding: Statement | None = None
) -> Decimal:
    """Equity accrued by an agreement on its issued and paid statements (not drafts, not void, not credit notes).

    ``through`` stops at that month (inclusive); ``excluding`` leaves one statement out. The
    agreement was read through its scope, so its statements are read by its id in the same scope.
    """
    statements = Statement.objects.filter(
        agreement_id=agreement.pk, status__in=Statement.FINAL, credit_note_for__isnull=True
    )
    if through is not None:
        statements = statements.filter(period__lte=through)
    if excluding is not None:
        statements = statements.exclude(pk=excluding.pk)
    total = statements.aggregate(total=Sum("equity_total"))["total"]
    return total if total is not None else Decimal("0.00")


def convertible_running_principal(*, agreement: Agreement) -> Decimal | None:
    """A convertible instrument's running principal: its principal plus the equity accrued on issued statements.

    None when the agreement's current terms have no convertible instrument.
    """
    terms = AgreementTerms.objects.filter(agreement=agreement).order_by("-effective_month").first()
    if terms is None or terms.equity_kind != AgreementTerms.EquityKind.CONVERTIBLE:
        return None
    return (terms.principal or Decimal("0")) + equity_accrued(agreement=agreement)


@dataclass(frozen=True)
class MissingReport:
    """An attributed account that should have reported revenue for a month and has not."""

    attribution_id: int
    account: str
    vendor_id: int
    vendor: str
    agreement_id: int
    period: datetime.date


def missing_revenue_reports(
    *, period: datetime.date | None = None, vendor: Organisation | None = None
) -> list[MissingReport]:
    """Attributed accounts without a revenue report for ``period`` (default last month) whose revenue would earn.

    Reads through the scoped managers: a vendor user gets its own accounts only.
    """
    from engagements.models import Attribution

    period = engine.first_of_month(period or previous_month())
    found = Agreement.objects.filter(engagement__start_date__lte=engine.last_of_month(period))
    if vendor is not None:
        found = found.filter(vendor=vendor)
    # The accounts without a report first, as plain rows (the report check is a subquery): usually a few,
    # so only their agreements and terms are loaded to see whether their revenue would earn.
    reported = RevenueReport.objects.filter(attribution=OuterRef("pk"), period=period)
    candidates = list(
        Attribution.objects.filter(
            engagement_id__in=found.values("engagement_id"), starts_on__lte=engine.last_of_month(period)
        )
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=period))
        .filter(~Exists(reported))
        .order_by("vendor__name", "msp__name")
        .values_list("pk", "engagement_id", "starts_on", "ended_on", "msp__name")
    )
    if not candidates:
        return []
    agreements: dict[int, Agreement] = {
        a.engagement_id: a
        for a in found.filter(engagement_id__in={c[1] for c in candidates}).select_related("engagement", "vendor")
    }
    by_pk = {a.pk: a for a in agreements.values()}
    terms: dict[int, list[engine.Terms]] = defaultdict(list)
    for version in (
        AgreementTerms.objects.filter(agreement__in=list(by_pk))
        .select_related("retainer_tier")
        .prefetch_related("steps")
    ):
        agreement = by_pk[version.agreement_id]
        terms[version.agreement_id].append(
            engine.Terms(
                effective_month=version.effective_month,
                monthly_retainer=version.monthly_retainer(agreement.currency),
                rates=tuple(s.rate for s in sorted(version.steps.all(), key=lambda s: s.year)),
                tail_months=version.tail_months,
                tail_rate=version.tail_rate,
            )
        )
    missing = []
    for attribution_id, engagement_id, starts_on, ended_on, msp_name in candidates:
        agreement = agreements[engagement_id]
        account = engine.Account(id=attribution_id, name=msp_name, starts_on=starts_on, ended_on=ended_on)
        earns = engine.share_rate(
            terms=terms[agreement.pk],
            account=account,
            period=period,
            start=agreement.engagement.start_date,
            stop=agreement.engagement.stop_date,
        )
        if earns is None or not earns.rate:
            continue
        missing.append(
            MissingReport(
                attribution_id=attribution_id,
                account=msp_name,
                vendor_id=agreement.vendor_id,
                vendor=agreement.vendor.name,
                agreement_id=agreement.pk,
                period=period,
            )
        )
    return missing


def finance_summary() -> dict[str, Any]:
    """Figures for the finance dashboard (operators: call inside their scope).

    Keys: ``period`` (last month), ``counts`` by status for that month, ``outstanding``
    (issued, unpaid totals by currency), ``paid_this_year`` by currency, ``missing_reports``
    (count for last month), ``last_run`` (a StatementRun or None) and ``monthly`` (the last
    twelve months of issued and paid totals by currency, for a chart).
    """
    period = previous_month()
    this_year = timezone.localdate().year
    statements = Statement.objects.filter(credit_note_for__isnull=True)
    counts = dict(
        statements.filter(period=period).values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    outstanding = {
        row["currency"]: row["total"]
        for row in statements.filter(status=Statement.Status.ISSUED).values("currency").annotate(total=Sum("total"))
    }
    paid_this_year = {
        row["currency"]: row["total"]
        for row in statements.filter(status=Statement.Status.PAID, paid_on__year=this_year)
        .values("currency")
        .annotate(total=Sum("total"))
    }
    first = engine.add_months(period, -11)
    monthly_rows = (
        statements.filter(period__gte=first, period__lte=period, status__in=Statement.FINAL)
        .values("period", "currency")
        .annotate(total=Sum("total"))
    )
    months = [engine.add_months(first, i) for i in range(12)]
    by_currency: dict[str, dict[datetime.date, Decimal]] = defaultdict(dict)
    for row in monthly_rows:
        by_currency[row["currency"]][row["period"]] = row["total"]
    return {
        "period": period,
        "counts": {status: counts.get(status, 0) for status in Statement.Status.values},
        "outstanding": outstanding,
        "paid_this_year": paid_this_year,
        "missing_reports": len(missing_revenue_reports(period=period)),
        "last_run": StatementRun.objects.order_by("-created_at", "-pk").first(),
        "monthly": {
            "labels": [f"{month_short_label(m)}" for m in months],
            "datasets": [
                {"label": currency, "data": [str(values.get(m, Decimal("0"))) for m in months]}
                for currency, values in sorted(by_currency.items())
            ],
        },
    }


def statement_queries() -> QuerySet[StatementQuery]:
    """Statement queries in the caller's scope with what their lists show, open ones first, oldest first."""
    return (
        StatementQuery.objects.select_related("statement", "line", "vendor", "raised_by", "answered_by")
        .annotate(open_first=Case(When(status="open", then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("open_first", "raised_at", "pk")
    )
