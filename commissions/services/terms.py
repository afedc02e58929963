"""Retainer tiers, agreements and their versioned terms."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from commissions.models import (
    Agreement,
    AgreementTerms,
    Currency,
    RetainerTier,
    RevenueShareStep,
    Statement,
    TaxKind,
)
from commissions.services._common import (
    Actor,
    _fraction,
    _money,
    _month,
    _validate,
)
from tmw.accounts import policy
from tmw.accounts.services import audit_record
from tmw.errors import ApplicationError

if TYPE_CHECKING:
    from engagements.models import Engagement
    from tmw.accounts.models import User

__all__ = [
    "agreement_create",
    "agreement_terms_change",
    "retainer_tier_save",
]


@transaction.atomic
def retainer_tier_save(
    *,
    actor: Actor,
    name: str,
    monthly_fee_usd: Decimal,
    monthly_fee_cad: Decimal,
    description: str = "",
    active: bool = True,
    tier: RetainerTier | None = None,
) -> RetainerTier:
    """Create or edit a retainer tier (operators); agreements already signed keep their amounts by version."""
    policy.require(actor, "terms.manage", "edit retainer tiers")
    tier = tier or RetainerTier()
    tier.name = name.strip()
    tier.description = description
    tier.monthly_fee_usd = _money(monthly_fee_usd, "monthly_fee_usd")
    tier.monthly_fee_cad = _money(monthly_fee_cad, "monthly_fee_cad")
    tier.active = active
    _validate(tier)
    tier.save()
    audit_record(actor=actor, verb="retainer_tier.saved", obj=tier, data={"usd": str(tier.monthly_fee_usd)})
    return tier


def _terms_build(
    *,
    agreement: Agreement,
    effective_month: datetime.date | str,
    actor: User | None,
    retainer_tier: RetainerTier | None,
    monthly_amount: Decimal | None,
    rates: Iterable[Decimal],
    tail_months: int,
    tail_rate: Decimal | None,
    equity_share: Decimal,
    equity_kind: str,
    stake_percent: Decimal | None,
    principal: Decimal | None,
    valuation_cap: Decimal | None,
    discount: Decimal | None,
    maturity_date: datetime.date | None,
    note: str = "",
    tax_kind: str = TaxKind.NONE,
    tax_rate: Decimal | None = None,
    tax_name: str = "",
    tax_registration: str = "",
    tax_on_equity: bool = False,
    payment_terms_days: int = 30,
) -> AgreementTerms:
    tax_fields = _tax_fields(tax_kind, tax_rate, tax_name, tax_registration, tax_on_equity)
    rates = [_fraction(r, "rates") for r in rates]
    if not rates:
        raise ApplicationError("Give at least one revenue-share rate.", extra={"rates": ["Required."]})
    if any(r < 0 or r > 1 for r in rates):
        raise ApplicationError("Rates are fractions between 0 and 1.", extra={"rates": ["Between 0 and 1."]})
    if any(later > earlier for earlier, later in zip(rates, rates[1:], strict=False)):
        raise ApplicationError(
            "Revenue-share rates decline across years.", extra={"rates": ["A later year cannot have a higher rate."]}
        )
    if retainer_tier is not None and monthly_amount is not None:
        raise ApplicationError(
            "Choose a retainer tier or a negotiated monthly amount, not both.",
            extra={"monthly_amount": ["Leave empty when a tier is chosen."]},
        )
    if retainer_tier is None and monthly_amount is None:
        raise ApplicationError(
            "Choose a retainer tier or a negotiated monthly amount.", extra={"retainer_tier": ["Required."]}
        )
    terms = AgreementTerms(
        agreement=agreement,
        effective_month=_month(effective_month, "effective_month"),
        retainer_tier=retainer_tier,
        monthly_amount=None if monthly_amount is None else _money(monthly_amount, "monthly_amount"),
        tail_months=tail_months,
        tail_rate=None if tail_rate is None else _fraction(tail_rate, "tail_rate"),
        equity_share=_fraction(equity_share or Decimal("0"), "equity_share"),
        equity_kind=equity_kind,
        stake_percent=stake_percent,
        principal=None if principal is None else _money(principal, "principal"),
        valuation_cap=None if valuation_cap is None else _money(valuation_cap, "valuation_cap"),
        discount=discount,
        maturity_date=maturity_date,
        payment_terms_days=payment_terms_days,
        note=note,
        created_by=actor,
        **tax_fields,
    )
    _validate(terms)
    terms.save()
    RevenueShareStep.objects.bulk_create(
        [RevenueShareStep(terms=terms, year=year, rate=rate) for year, rate in enumerate(rates, start=1)]
    )
    return terms


def _tax_fields(kind: str, rate: object, name: str, registration: str, on_equity: bool) -> dict[str, object]:
    """The tax fields of a terms version, checked: a message naming the field, before anything is written."""
    if kind not in TaxKind.values:
        choices = ", ".join(TaxKind.values)
        raise ApplicationError(f"Choose a tax: {choices}.", extra={"tax_kind": [f"One of {choices}."]})
    name, registration = (name or "").strip(), (registration or "").strip()
    if len(registration) > 40:
        raise ApplicationError(
            "A tax registration number is at most 40 characters.", extra={"tax_registration": ["At most 40."]}
        )
    if kind != TaxKind.CUSTOM:
        return {
            "tax_kind": kind,
            "tax_rate": None,
            "tax_name": "",
            "tax_registration": registration if kind != TaxKind.NONE else "",
            "tax_on_equity": bool(on_equity) and kind != TaxKind.NONE,
        }
    if not name:
        raise ApplicationError("A custom tax needs its name.", extra={"tax_name": ["Required for a custom tax."]})
    if len(name) > 40:
        raise ApplicationError("A tax name is at most 40 characters.", extra={"tax_name": ["At most 40."]})
    if rate is None or rate == "":
        raise ApplicationError("A custom tax needs its rate.", extra={"tax_rate": ["Required for a custom tax."]})
    try:
        fraction = _fraction(rate, "tax_rate")
    except ApplicationError as exc:
        raise ApplicationError(
            "A tax rate is between 0 and 100 % (a fraction between 0 and 1).",
            extra={"tax_rate": ["Between 0 and 100 %."]},
        ) from exc
    if fraction != fraction.quantize(Decimal("0.000001")):
        raise ApplicationError(
            "A tax rate has at most four decimals in percent.", extra={"tax_rate": ["At most 0.0001 %."]}
        )
    return {
        "tax_kind": kind,
        "tax_rate": fraction,
        "tax_name": name,
        "tax_registration": registration,
        "tax_on_equity": bool(on_equity),
    }


def _terms_data(terms: AgreementTerms) -> dict[str, object]:
    return {
        "effective_month": terms.effective_month.isoformat(),
        "retainer_tier": terms.retainer_tier_id,
        "monthly_amount": None if terms.monthly_amount is None else str(terms.monthly_amount),
        "rates": [str(s.rate) for s in RevenueShareStep.objects.filter(terms=terms).order_by("year")],
        "tail_months": terms.tail_months,
        "tail_rate": None if terms.tail_rate is None else str(terms.tail_rate),
        "equity_share": str(terms.equity_share),
        "equity_kind": terms.equity_kind,
        "tax_kind": terms.tax_kind,
        "tax_rate": None if terms.tax_rate is None else str(terms.tax_rate),
        "tax_name": terms.tax_name,
        "tax_registration": terms.tax_registration,
        "tax_on_equity": terms.tax_on_equity,
        "payment_terms_days": terms.payment_terms_days,
    }


@transaction.atomic
def agreement_create(
    *,
    engagement: Engagement,
    currency: str,
    effective_month: datetime.date,
    actor: Actor,
    retainer_tier: RetainerTier | None = None,
    monthly_amount: Decimal | None = None,
    rates: Iterable[Decimal] = (),
    tail_months: int = 0,
    tail_rate: Decimal | None = None,
    equity_share: Decimal = Decimal("0"),
    equity_kind: str = AgreementTerms.EquityKind.NONE,
    stake_percent: Decimal | None = None,
    principal: Decimal | None = None,
    valuation_cap: Decimal | None = None,
    discount: Decimal | None = None,
    maturity_date: datetime.date | None = None,
    tax_kind: str = TaxKind.NONE,
    tax_rate: Decimal | None = None,
    tax_name: str = "",
    tax_registration: str = "",
    tax_on_equity: bool = False,
    payment_terms_days: int = 30,
) -> Agreement:
    """Create the agreement of an engagement with its first terms version.

    ``rates`` is the revenue-share schedule by account year: ``[0.15, 0.10, 0.05]``
    means year 1 15 %, year 2 10 %, year 3 and later 5 %.
    """
    policy.require(actor, "terms.manage", "set commercial terms")
    user = policy.user_of(actor)
    if currency not in Currency.values:
        raise ApplicationError("Choose USD or CAD.", extra={"currency": ["Choose USD or CAD."]})
    # unscoped: unique (one agreement per engagement, whoever's scope is active)
    if Agreement.all_objects.filter(engagement=engagement).exists():
        raise ApplicationError("This engagement already has an agreement.", status=409)
    agreement = Agreement(engagement=engagement, vendor_id=engagement.vendor_id, currency=currency, created_by=user)
    _validate(agreement)
    try:
        with transaction.atomic():
            agreement.save()
    except IntegrityError as exc:
        raise ApplicationError("This engagement already has an agreement.", status=409) from exc
    terms = _terms_build(
        agreement=agreement,
        effective_month=effective_month,
        actor=user,
        retainer_tier=retainer_tier,
        monthly_amount=monthly_amount,
        rates=rates,
        tail_months=tail_months,
        tail_rate=tail_rate,
        equity_share=equity_share,
        equity_kind=equity_kind,
        stake_percent=stake_percent,
        principal=principal,
        valuation_cap=valuation_cap,
        discount=discount,
        maturity_date=maturity_date,
        tax_kind=tax_kind,
        tax_rate=tax_rate,
        tax_name=tax_name,
        tax_registration=tax_registration,
        tax_on_equity=tax_on_equity,
        payment_terms_days=payment_terms_days,
    )
    audit_record(
        actor=user,
        verb="agreement.created",
        obj=agreement,
        organisation=agreement.vendor,
        data={"currency": currency, "terms": _terms_data(terms)},
    )
    return agreement


@transaction.atomic
def agreement_terms_change(
    *,
    agreement: Agreement,
    effective_month: datetime.date,
    actor: Actor,
    retainer_tier: RetainerTier | None = None,
    monthly_amount: Decimal | None = None,
    rates: Iterable[Decimal] = (),
    tail_months: int = 0,
    tail_rate: Decimal | None = None,
    equity_share: Decimal = Decimal("0"),
    equity_kind: str = AgreementTerms.EquityKind.NONE,
    stake_percent: Decimal | None = None,
    principal: Decimal | None = None,
    valuation_cap: Decimal | None = None,
    discount: Decimal | None = None,
    maturity_date: datetime.date | None = None,
    note: str = "",
    tax_kind: str = TaxKind.NONE,
    tax_rate: Decimal | None = None,
    tax_name: str = "",
    tax_registration: str = "",
    tax_on_equity: bool = False,
    payment_terms_days: int = 30,
) -> AgreementTerms:
    """Add a terms version that applies from ``effective_month`` on; a month with a locked statement keeps its terms."""
    policy.require(actor, "terms.manage", "change commercial terms")
    user = policy.user_of(actor)
    # unscoped: lock (re-reads with FOR UPDATE the agreement the caller holds)
    agreement = Agreement.all_objects.select_for_update().get(pk=agreement.pk)
    month = _month(effective_month, "effective_month")
    locked = Statement.objects.filter(
        agreement=agreement, period__gte=month, status__in=Statement.LOCKED, credit_note_for__isnull=True
    )
    if locked.exists():
        raise ApplicationError(
            "A statement from that month on is already approved or issued; choose a later effective month.",
            extra={"effective_month": ["A later month than the last approved statement."]},
            status=409,
        )
    # unscoped: unique (one terms version per agreement and month)
    if AgreementTerms.all_objects.filter(agreement=agreement, effective_month=month).exists():
        raise ApplicationError(
            "These terms already have a version from that month.",
            extra={"effective_month": ["One version per month."]},
            status=409,
        )
    terms = _terms_build(
        agreement=agreement,
        effective_month=month,
        actor=user,
        retainer_tier=retainer_tier,
        monthly_amount=monthly_amount,
        rates=rates,
        tail_months=tail_months,
        tail_rate=tail_rate,
        equity_share=equity_share,
        equity_kind=equity_kind,
        stake_percent=stake_percent,
        principal=principal,
        valuation_cap=valuation_cap,
        discount=discount,
        maturity_date=maturity_date,
        note=note,
        tax_kind=tax_kind,
        tax_rate=tax_rate,
        tax_name=tax_name,
        tax_registration=tax_registration,
        tax_on_equity=tax_on_equity,
        payment_terms_days=payment_terms_days,
    )
    audit_record(
        actor=user,
        verb="agreement.terms_changed",
        obj=agreement,
        organisation=agreement.vendor,
        data={"terms": _terms_data(terms), "note": note},
    )
    return terms
