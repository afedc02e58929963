"""Builders of one object per tenant-owned commissions model (see tests/factories.py).

Side X's agreement belongs to side X's engagement and bills "<marker> Billing MSP", an
MSP attributed to that engagement, with one month of revenue and a draft statement for
last month.
"""

from __future__ import annotations

from decimal import Decimal

from commissions import services
from commissions.models import (
    Agreement,
    AgreementTerms,
    OverdueReminder,
    Payment,
    RevenueReport,
    RevenueReportRevision,
    RevenueShareStep,
    Statement,
    StatementDelivery,
    StatementLine,
    StatementQuery,
)
from commissions.selectors import previous_month
from engagements.models import Attribution
from tests.engagements.tenant_objects import engagement_for
from tests.factories import OrganisationFactory, Side, World, tenant_object
from tmw.accounts.models import Organisation
from tmw.accounts.policy import SYSTEM


def _cache(side: Side) -> dict:
    """Objects built for the side so far (kept beside ``side.objects``, which holds one per model)."""
    if not hasattr(side, "_commissions"):
        side._commissions = {}
    return side._commissions


def agreement_for(world: World, side: Side) -> Agreement:
    """The side's agreement (USD, 5,000 a month, 15/10/5 % by year, a 6-month tail), created on first use."""
    cache = _cache(side)
    if "agreement" not in cache:
        engagement = engagement_for(world, side)
        cache["agreement"] = services.agreement_create(
            engagement=engagement,
            currency="USD",
            effective_month=engagement.start_date.replace(day=1),
            actor=world.finance,
            monthly_amount=Decimal("5000.00"),
            rates=[Decimal("0.15"), Decimal("0.10"), Decimal("0.05")],
            tail_months=6,
        )
        AgreementTerms.all_objects.filter(agreement=cache["agreement"]).update(note=f"{side.marker} signed terms")
    return cache["agreement"]


def billing_attribution_for(world: World, side: Side) -> Attribution:
    """An MSP account attributed to the side's engagement since its start, named after the side's vendor."""
    cache = _cache(side)
    if "attribution" not in cache:
        engagement = engagement_for(world, side)
        msp = OrganisationFactory(
            kind=Organisation.Kind.MSP, name=f"{side.marker} Billing MSP", city="Denver", region="CO"
        )
        cache["attribution"] = Attribution.all_objects.create(
            engagement=engagement,
            vendor=side.vendor,
            msp=msp,
            starts_on=engagement.start_date,
            reason=f"{side.marker} billing account",
            created_by=world.partner,
        )
    return cache["attribution"]


def report_for(world: World, side: Side) -> RevenueReport:
    """Last month's revenue of the side's billing account."""
    cache = _cache(side)
    if "report" not in cache:
        agreement_for(world, side)
        cache["report"] = services.revenue_report_record(
            attribution=billing_attribution_for(world, side),
            period=previous_month(),
            amount=Decimal("2000.00"),
            currency="USD",
            source=RevenueReport.Source.FINANCE,
            actor=world.finance,
        )
    return cache["report"]


def statement_for(world: World, side: Side) -> Statement:
    """The side's draft statement for last month."""
    cache = _cache(side)
    if "statement" not in cache:
        report_for(world, side)
        cache["statement"] = services.statement_generate(
            agreement=agreement_for(world, side), period=previous_month(), actor=SYSTEM
        )
    return cache["statement"]


def paid_holder_for(world: World, side: Side) -> Statement:
    """A void statement of the side's agreement, three months back, that the side's payment and reminder hang on:
    the isolation test needs their rows, and a void statement changes no list, balance or aging of the world."""
    cache = _cache(side)
    if "holder" not in cache:
        from tmw.months import add_months

        cache["holder"] = Statement.all_objects.create(
            agreement=agreement_for(world, side),
            vendor=side.vendor,
            period=add_months(previous_month(), -2),
            status=Statement.Status.VOID,
            currency="USD",
            void_reason=f"{side.marker} test holder",
        )
    return cache["holder"]


@tenant_object(Payment)
def _payment(world: World, side: Side):
    return Payment.all_objects.create(
        statement=paid_holder_for(world, side),
        vendor=side.vendor,
        received_on=previous_month(),
        amount=Decimal("1000.00"),
        method=Payment.Method.WIRE,
        reference=f"{side.marker} WIRE",
    )


@tenant_object(OverdueReminder)
def _reminder(world: World, side: Side):
    return OverdueReminder.all_objects.create(
        statement=paid_holder_for(world, side),
        vendor=side.vendor,
        step=1,
        days_overdue=7,
        balance=Decimal("4000.00"),
        recipients=side.vendor_admin.email,
    )


@tenant_object(Agreement)
def _agreement(world: World, side: Side):
    return agreement_for(world, side)


@tenant_object(AgreementTerms)
def _terms(world: World, side: Side):
    return AgreementTerms.all_objects.filter(agreement=agreement_for(world, side)).first()


@tenant_object(RevenueShareStep)
def _step(world: World, side: Side):
    return RevenueShareStep.all_objects.filter(terms__agreement=agreement_for(world, side)).order_by("year").first()


@tenant_object(RevenueReport)
def _report(world: World, side: Side):
    return report_for(world, side)


@tenant_object(RevenueReportRevision)
def _revision(world: World, side: Side):
    return RevenueReportRevision.all_objects.filter(report=report_for(world, side)).first()


@tenant_object(Statement)
def _statement(world: World, side: Side):
    return statement_for(world, side)


@tenant_object(StatementLine)
def _line(world: World, side: Side):
    return StatementLine.all_objects.get(statement=statement_for(world, side), kind=StatementLine.Kind.REVENUE_SHARE)


def query_for(world: World, side: Side) -> StatementQuery:
    """An open query of the side's vendor admin on the side's statement (the whole of it: its lines are a draft's).

    Written straight to the row: the world's statement stays the one draft every test expects
    (a query is raised through the service on issued statements only, as the commissions tests do).
    """
    cache = _cache(side)
    if "query" not in cache:
        statement = statement_for(world, side)
        cache["query"] = StatementQuery.all_objects.create(
            statement=statement,
            vendor=side.vendor,
            reason=StatementQuery.Reason.OTHER,
            comment=f"{side.marker} query on the statement",
            raised_by=side.vendor_admin,
        )
    return cache["query"]


def delivery_for(world: World, side: Side) -> StatementDelivery:
    """A recorded email of the side's statement to its vendor admin (a row only; nothing is sent)."""
    cache = _cache(side)
    if "delivery" not in cache:
        cache["delivery"] = StatementDelivery.all_objects.create(
            statement=statement_for(world, side),
            vendor=side.vendor,
            status=StatementDelivery.Status.SENT,
            recipients=[side.vendor_admin.email],
            attempts=1,
            response="Accepted by the mail system.",
        )
    return cache["delivery"]


@tenant_object(StatementDelivery)
def _delivery(world: World, side: Side):
    return delivery_for(world, side)


@tenant_object(StatementQuery)
def _query(world: World, side: Side):
    return query_for(world, side)
