"""Demo commercial terms: retainer tiers, agreements for both desks, twelve months of revenue, and statements
issued (and mostly paid) for past months with a draft for last month, all through the real services."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.utils import timezone

from engagements.models import Attribution, Engagement
from tmw.months import add_months, first_of_month

from . import services
from .models import Agreement, RetainerTier, RevenueReport, Statement, StatementRun

TIERS = [
    ("Foundation", "6000.00", "8200.00", "Quarterly channel review, community access, two MSP introductions a month."),
    ("Growth", "9500.00", "12900.00", "Everything in Foundation, a named channel advisor and pitch-session slots."),
    ("Full desk", "15000.00", "20500.00", "A TMW-staffed desk: recruiting, enablement and marketing operations."),
]
RATES = [Decimal("0.15"), Decimal("0.10"), Decimal("0.05")]
AGREEMENTS = {
    "Option A desk": {"currency": "USD", "tier": "Growth", "tail_months": 12},
    "Option B desk": {
        "currency": "CAD",
        "monthly_amount": Decimal("18500.00"),
        "tail_months": 18,
        "equity_kind": "convertible",
        "equity_share": Decimal("0.40"),
        "principal": Decimal("150000.00"),
        "valuation_cap": Decimal("20000000.00"),
        "discount": Decimal("0.20"),
        "maturity_years": 3,
        # Billed from Ontario: HST 13 % on the cash due, with TMW's registration number.
        "tax_kind": "hst13",
        "tax_registration": "81234 5678 RT0001",
    },
}
HISTORY_MONTHS = 12
UNPAID_MONTHS = 2  # the most recent issued statements are still awaiting payment


def _tiers(actor) -> dict[str, RetainerTier]:
    tiers = {}
    for name, usd, cad, description in TIERS:
        tier = RetainerTier.objects.filter(name=name).first()
        if tier is None:
            tier = services.retainer_tier_save(
                actor=actor,
                name=name,
                monthly_fee_usd=Decimal(usd),
                monthly_fee_cad=Decimal(cad),
                description=description,
            )
        tiers[name] = tier
    return tiers


def _agreement(engagement: Engagement, spec: dict, tiers: dict, actor) -> Agreement:
    existing = Agreement.objects.filter(engagement=engagement).first()
    if existing is not None:
        return existing
    assert engagement.start_date is not None  # every demo desk has started
    start = first_of_month(engagement.start_date)
    kwargs = {
        "engagement": engagement,
        "currency": spec["currency"],
        "effective_month": start,
        "actor": actor,
        "rates": RATES,
        "tail_months": spec["tail_months"],
    }
    if "tier" in spec:
        kwargs["retainer_tier"] = tiers[spec["tier"]]
    else:
        kwargs["monthly_amount"] = spec["monthly_amount"]
    if spec.get("equity_kind"):
        kwargs.update(
            equity_kind=spec["equity_kind"],
            equity_share=spec["equity_share"],
            principal=spec["principal"],
            valuation_cap=spec["valuation_cap"],
            discount=spec["discount"],
            maturity_date=start.replace(year=start.year + spec["maturity_years"]),
        )
    if spec.get("tax_kind"):
        kwargs.update(tax_kind=spec["tax_kind"], tax_registration=spec["tax_registration"])
    return services.agreement_create(**kwargs)


def _months(today: datetime.date) -> list[datetime.date]:
    last = add_months(first_of_month(today), -1)
    return [add_months(last, -i) for i in range(HISTORY_MONTHS - 1, -1, -1)]


def _revenue(agreement: Agreement, months: list[datetime.date], actor, rng: random.Random) -> None:
    attributions = Attribution.objects.filter(engagement=agreement.engagement).select_related("msp", "opportunity")
    existing = set(
        RevenueReport.objects.filter(attribution__engagement=agreement.engagement).values_list(
            "attribution_id", "period"
        )
    )
    ordered = list(attributions.order_by("starts_on", "pk"))
    for attribution in ordered:
        late = attribution is ordered[-1]  # the newest account has not reported last month yet
        base = getattr(attribution.opportunity, "expected_mrr", None) or Decimal(rng.randrange(800, 6000, 50))
        first = first_of_month(attribution.starts_on)
        for index, period in enumerate(m for m in months if m >= first):
            if attribution.ended_on is not None and period > attribution.ended_on:
                break
            if (attribution.pk, period) in existing or (late and period == months[-1]):
                continue
            # Revenue ramps up over the first months, then grows slowly.
            ramp = Decimal(min(index + 1, 4)) / Decimal(4)
            growth = Decimal(1) + Decimal(index) * Decimal("0.012")
            amount = (Decimal(base) * ramp * growth).quantize(Decimal("0.01"))
            services.revenue_report_record(
                attribution=attribution,
                period=period,
                amount=amount,
                currency=agreement.currency,
                source=RevenueReport.Source.VENDOR_CSV if index % 3 else RevenueReport.Source.FINANCE,
                actor=actor,
            )


def _statement(agreement: Agreement, period: datetime.date, *, paid: bool, actor, today) -> None:
    """An issued statement for a past month, paid unless it is one of the most recent."""
    assert agreement.engagement.start_date is not None  # every demo desk has started
    if period < first_of_month(agreement.engagement.start_date):
        return
    if Statement.objects.filter(agreement=agreement, period=period, credit_note_for__isnull=True).exists():
        return
    statement = services.statement_generate(agreement=agreement, period=period, actor=actor)
    assert statement is not None  # a past month of a started desk has a statement to draw
    statement = services.statement_approve(statement=statement, actor=actor)
    statement = services.statement_issue(statement=statement, actor=actor)
    if paid:
        # Issued today (the seed issues every past month now), so paid today: never before the issue date.
        services.statement_mark_paid(
            statement=statement, paid_on=today, reference=f"WIRE {period:%Y%m}-{agreement.pk:03d}", actor=actor
        )


def seed(context: dict) -> None:
    """Tiers, both desks' agreements, a year of revenue and statements; running it again changes nothing."""
    today = timezone.localdate()
    finance = context["staff"]["priya.raman"]
    tiers = _tiers(context["staff"].get("admin") or finance)
    months = _months(today)
    agreements = []
    for label, spec in AGREEMENTS.items():
        vendor = context["vendors"].get(label)
        if vendor is None:
            continue
        engagement = Engagement.objects.filter(vendor=vendor, start_date__isnull=False).order_by("pk").first()
        if engagement is None:
            continue
        agreement = _agreement(engagement, spec, tiers, finance)
        _revenue(agreement, months, finance, random.Random(agreement.pk))
        agreements.append(agreement)
    # Month by month, so statement numbers follow the calendar across desks.
    for position, period in enumerate(months[:-1]):
        paid = position < len(months) - 1 - UNPAID_MONTHS
        for agreement in agreements:
            _statement(agreement, period, paid=paid, actor=finance, today=today)
    if agreements:
        _reversed_cheque(agreements[0], months[-2], finance, today)
        _draft_run(months[-1], finance)


def _reversed_cheque(agreement: Agreement, period: datetime.date, actor, today) -> None:
    """Last issued month's statement of the first desk: a cheque recorded on it bounced, so it was reversed."""
    statement = Statement.objects.filter(agreement=agreement, period=period, credit_note_for__isnull=True).first()
    if statement is None or statement.status != Statement.Status.ISSUED or statement.payments.exists():
        return
    payment = services.payment_record(
        statement=statement,
        received_on=today,
        amount=statement.balance,
        method="cheque",
        reference=f"CHQ {period:%Y%m}-{agreement.pk:03d}",
        actor=actor,
    )
    services.payment_reverse(payment=payment, reason="The cheque bounced; the vendor will pay by wire.", actor=actor)


def _draft_run(period: datetime.date, actor) -> None:
    """Last month's drafts come from a finished statement run, as the 1st of the month would leave them."""
    if not StatementRun.objects.filter(period=period).exists():
        services.statement_run_now(period=period, actor=actor)
