"""Small builders for the money tests: engagements with dates, attributed MSPs, agreements, revenue."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

from commissions import services
from commissions.models import Agreement, RevenueReport
from engagements.models import Attribution, Engagement
from tests.factories import OrganisationFactory
from tmw.accounts.models import Organisation

_counter = itertools.count(1)
D = Decimal


def engagement(
    vendor: Organisation,
    partner,
    *,
    start: datetime.date,
    end: datetime.date | None = None,
    terminated: datetime.date | None = None,
) -> Engagement:
    """An engagement of ``vendor`` with the given dates (no services: the dates are the point)."""
    status = Engagement.Status.ACTIVE
    if terminated:
        status = Engagement.Status.TERMINATED
    elif end:
        status = Engagement.Status.ENDED
    return Engagement.all_objects.create(
        vendor=vendor,
        option=Engagement.Option.B,
        status=status,
        lead_partner=partner,
        start_date=start,
        end_date=end,
        terminated_on=terminated,
    )


def attribute(engagement: Engagement, partner, *, starts_on: datetime.date, name: str | None = None) -> Attribution:
    """A new MSP attributed to ``engagement`` from ``starts_on``."""
    name = name or f"Account {next(_counter):04d} MSP"
    msp = OrganisationFactory(kind=Organisation.Kind.MSP, name=name)
    return Attribution.all_objects.create(
        engagement=engagement,
        vendor_id=engagement.vendor_id,
        msp=msp,
        starts_on=starts_on,
        reason="Introduced by TMW",
        created_by=partner,
    )


def agreement(engagement: Engagement, finance, **terms) -> Agreement:
    """An agreement for ``engagement``; terms default to USD 6,000 a month, 15/10/5 %, a 3-month tail."""
    defaults = {
        "currency": "USD",
        "effective_month": engagement.start_date.replace(day=1),
        "monthly_amount": D("6000.00"),
        "rates": [D("0.15"), D("0.10"), D("0.05")],
        "tail_months": 3,
    }
    defaults.update(terms)
    return services.agreement_create(engagement=engagement, actor=finance, **defaults)


def report(attribution: Attribution, period: datetime.date, amount: str, finance, currency: str = "USD"):
    """Record an account's revenue for a month, as finance."""
    return services.revenue_report_record(
        attribution=attribution,
        period=period,
        amount=D(amount),
        currency=currency,
        source=RevenueReport.Source.FINANCE,
        actor=finance,
    )


def lines_of(statement) -> list[tuple]:
    """A statement's lines as comparable tuples (kind, attribution, revenue, year, rate, amount, corrects)."""
    return [
        (line.kind, line.attribution_id, line.revenue, line.account_year, line.rate, line.amount, line.corrects_period)
        for line in statement.lines.order_by("order", "pk")
    ]


def fake_pdf(statement) -> tuple[str, str, bytes]:
    """A stand-in renderer: a tiny PDF naming the statement (the real one is tested with the PDFs)."""
    return f"{statement.number}.pdf", "application/pdf", f"%PDF-1.4 {statement.number} {statement.total}".encode()
