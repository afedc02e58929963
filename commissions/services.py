"""Business actions on agreements, revenue reports and statements; one transaction each.

Every service is keyword-only, validates, writes an audit row and raises
``tmw.errors.ApplicationError`` with field messages when a business rule says no.
The computation of statement lines is pure and lives in ``commissions.engine``.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from commissions import engine, generation
from commissions.engine import LineDraft
from commissions.models import (
    Agreement,
    AgreementTerms,
    Currency,
    RetainerTier,
    RevenueReport,
    RevenueReportRevision,
    RevenueShareStep,
    Statement,
    StatementLine,
    StatementRun,
    StatementSequence,
)
from tmw.accounts.models import Role
from tmw.accounts.services import audit_record
from tmw.errors import ApplicationError
from tmw.tasks import enqueue_on_commit

__all__ = [
    "agreement_create",
    "agreement_terms_change",
    "revenue_report_record",
    "revenue_reports_import",
    "retainer_tier_save",
    "statement_approve",
    "statement_compute",
    "statement_generate",
    "statement_issue",
    "statement_mark_paid",
    "statement_run_fan_out",
    "statement_run_generate_batch",
    "statement_run_batches",
    "statement_run_generate_one",
    "statement_run_now",
    "statement_run_start",
    "statement_void",
]

MAX_AMOUNT = Decimal("1000000000000")  # the columns hold 12 digits before the point
FINANCE_ROLES = frozenset({Role.FINANCE, Role.ADMIN})
TERMS_ROLES = frozenset({Role.PARTNER, Role.FINANCE, Role.ADMIN})


def _require(actor, roles: frozenset, what: str) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.role not in roles:
        raise ApplicationError(f"You may not {what}.", status=403)


def _validate(obj) -> None:
    """full_clean() turned into an ApplicationError with field messages."""
    try:
        obj.full_clean()
    except ValidationError as exc:
        extra = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        first = next(iter(extra.values()))[0] if extra else "Invalid."
        raise ApplicationError(first, extra=extra) from exc


def _month(value: datetime.date | str, field: str = "period") -> datetime.date:
    """A calendar month as its first day; accepts a date or 'YYYY-MM' / 'YYYY-MM-DD'."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.replace(day=1)
    try:
        parts = str(value).strip().split("-")
        if len(parts) == 2:
            return datetime.date(int(parts[0]), int(parts[1]), 1)
        return datetime.date.fromisoformat(str(value).strip()).replace(day=1)
    except (TypeError, ValueError) as exc:
        raise ApplicationError("Give the month as YYYY-MM.", extra={field: ["Give the month as YYYY-MM."]}) from exc


def _money(value, field: str = "amount") -> Decimal:
    """A non-negative amount with at most two decimals; floats are refused (money is Decimal)."""
    message = None
    if isinstance(value, (float, bool)):
        message = "Give the amount as a decimal number."
    else:
        try:
            amount = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            amount = None
        if amount is None or not amount.is_finite():
            message = "Give the amount as a number, e.g. 1234.50."
        elif amount < 0:
            message = "The amount cannot be negative."
        elif amount >= MAX_AMOUNT:
            message = "The amount is too large."
        elif amount != amount.quantize(engine.CENT):
            message = "Give the amount in dollars and cents (at most two decimals)."
    if message:
        raise ApplicationError(message, extra={field: [message]})
    return amount.quantize(engine.CENT)


def _fraction(value, field: str) -> Decimal:
    """A rate or share between 0 and 1 (0.15 is 15 %)."""
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, (float, bool)) else None
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or number < 0 or number > 1:
        raise ApplicationError("Give a fraction between 0 and 1 (0.15 is 15 %).", extra={field: ["Between 0 and 1."]})
    return number


# --- retainer tiers and agreements ------------------------------------------------------------


@transaction.atomic
def retainer_tier_save(
    *,
    actor,
    name: str,
    monthly_fee_usd: Decimal,
    monthly_fee_cad: Decimal,
    description: str = "",
    active: bool = True,
    tier: RetainerTier | None = None,
) -> RetainerTier:
    """Create or edit a retainer tier (operators); agreements already signed keep their amounts by version."""
    _require(actor, TERMS_ROLES, "edit retainer tiers")
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
    effective_month,
    actor,
    retainer_tier,
    monthly_amount,
    rates,
    tail_months,
    tail_rate,
    equity_share,
    equity_kind,
    stake_percent,
    principal,
    valuation_cap,
    discount,
    maturity_date,
    note: str = "",
) -> AgreementTerms:
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
        principal=principal,
        valuation_cap=valuation_cap,
        discount=discount,
        maturity_date=maturity_date,
        note=note,
        created_by=actor,
    )
    _validate(terms)
    terms.save()
    RevenueShareStep.all_objects.bulk_create(
        [RevenueShareStep(terms=terms, year=year, rate=rate) for year, rate in enumerate(rates, start=1)]
    )
    return terms


def _terms_data(terms: AgreementTerms) -> dict:
    return {
        "effective_month": terms.effective_month.isoformat(),
        "retainer_tier": terms.retainer_tier_id,
        "monthly_amount": None if terms.monthly_amount is None else str(terms.monthly_amount),
        "rates": [str(s.rate) for s in RevenueShareStep.all_objects.filter(terms=terms).order_by("year")],
        "tail_months": terms.tail_months,
        "tail_rate": None if terms.tail_rate is None else str(terms.tail_rate),
        "equity_share": str(terms.equity_share),
        "equity_kind": terms.equity_kind,
    }


@transaction.atomic
def agreement_create(
    *,
    engagement,
    currency: str,
    effective_month: datetime.date,
    actor,
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
) -> Agreement:
    """Create the agreement of an engagement with its first terms version.

    ``rates`` is the revenue-share schedule by account year: ``[0.15, 0.10, 0.05]``
    means year 1 15 %, year 2 10 %, year 3 and later 5 %.
    """
    _require(actor, TERMS_ROLES, "set commercial terms")
    if currency not in Currency.values:
        raise ApplicationError("Choose USD or CAD.", extra={"currency": ["Choose USD or CAD."]})
    if Agreement.all_objects.filter(engagement=engagement).exists():
        raise ApplicationError("This engagement already has an agreement.", status=409)
    agreement = Agreement(engagement=engagement, vendor_id=engagement.vendor_id, currency=currency, created_by=actor)
    _validate(agreement)
    try:
        with transaction.atomic():
            agreement.save()
    except IntegrityError as exc:
        raise ApplicationError("This engagement already has an agreement.", status=409) from exc
    terms = _terms_build(
        agreement=agreement,
        effective_month=effective_month,
        actor=actor,
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
    )
    audit_record(
        actor=actor,
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
    actor,
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
) -> AgreementTerms:
    """Add a terms version that applies from ``effective_month`` on; a month with a locked statement keeps its terms."""
    _require(actor, TERMS_ROLES, "change commercial terms")
    agreement = Agreement.all_objects.select_for_update().get(pk=agreement.pk)
    month = _month(effective_month, "effective_month")
    locked = Statement.all_objects.filter(
        agreement=agreement, period__gte=month, status__in=Statement.LOCKED, credit_note_for__isnull=True
    )
    if locked.exists():
        raise ApplicationError(
            "A statement from that month on is already approved or issued; choose a later effective month.",
            extra={"effective_month": ["A later month than the last approved statement."]},
            status=409,
        )
    if AgreementTerms.all_objects.filter(agreement=agreement, effective_month=month).exists():
        raise ApplicationError(
            "These terms already have a version from that month.",
            extra={"effective_month": ["One version per month."]},
            status=409,
        )
    terms = _terms_build(
        agreement=agreement,
        effective_month=month,
        actor=actor,
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
    )
    audit_record(
        actor=actor,
        verb="agreement.terms_changed",
        obj=agreement,
        organisation=agreement.vendor,
        data={"terms": _terms_data(terms), "note": note},
    )
    return terms


# --- revenue intake ---------------------------------------------------------------------------


def _request_hash(*, attribution_id: int, period: datetime.date, amount: Decimal, currency: str) -> str:
    body = json.dumps(
        {"attribution": attribution_id, "period": period.isoformat(), "amount": str(amount), "currency": currency},
        sort_keys=True,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _attributed_in(attribution, period: datetime.date) -> bool:
    if period < engine.first_of_month(attribution.starts_on):
        return False
    return attribution.ended_on is None or period <= engine.first_of_month(attribution.ended_on)


def _check_reporter(actor, vendor_id: int, source: str) -> None:
    if source not in RevenueReport.Source.values:
        raise ApplicationError("Unknown source.", extra={"source": ["Unknown source."]})
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise ApplicationError("Log in to report revenue.", status=403)
    if actor.is_vendor_user:
        if actor.organisation_id != vendor_id:
            raise ApplicationError("No such account.", status=404)
        return
    if actor.role not in FINANCE_ROLES | {Role.PARTNER}:
        raise ApplicationError("You may not report revenue.", status=403)


@transaction.atomic
def revenue_report_record(
    *,
    attribution,
    period: datetime.date,
    amount: Decimal,
    currency: str,
    source: str,
    actor,
    idempotency_key: str | None = None,
) -> RevenueReport:
    """Record (or correct) one attributed account's recurring revenue for one month.

    With an ``idempotency_key``: a retry with the same key and content returns the first
    answer (the report, with ``report.replayed = True``); the same key with other content
    is refused with status 409. A correction of a month whose statement is approved or
    issued leaves that statement alone: the difference becomes an adjustment line on the
    agreement's next statement.
    """
    _check_reporter(actor, attribution.vendor_id, source)
    period = _month(period)
    amount = _money(amount)
    key = (idempotency_key or "").strip() or None
    if key and len(key) > 100:
        raise ApplicationError("The idempotency key is too long.", extra={"idempotency_key": ["At most 100."]})
    request_hash = _request_hash(attribution_id=attribution.pk, period=period, amount=amount, currency=currency)
    if key:
        earlier = (
            RevenueReportRevision.all_objects.select_related("report")
            .filter(vendor_id=attribution.vendor_id, idempotency_key=key)
            .first()
        )
        if earlier is not None:
            return _replay(earlier, request_hash)

    agreement = Agreement.all_objects.filter(engagement_id=attribution.engagement_id).first()
    if agreement is None:
        raise ApplicationError(
            "This account's engagement has no agreement yet.", extra={"attribution": ["No agreement."]}
        )
    if currency != agreement.currency:
        raise ApplicationError(
            f"Revenue for this agreement is reported in {agreement.currency}.",
            extra={"currency": [f"Use {agreement.currency}."]},
        )
    if period > engine.first_of_month(timezone.localdate()):
        raise ApplicationError("The month is in the future.", extra={"period": ["A month in the future."]})
    if not _attributed_in(attribution, period):
        raise ApplicationError(
            f"{attribution} is not attributed in {period:%B %Y}.",
            extra={"period": ["Not an attributed month of this account."]},
        )

    try:
        with transaction.atomic():
            return _report_write(
                attribution=attribution,
                period=period,
                amount=amount,
                currency=currency,
                source=source,
                actor=actor,
                key=key,
                request_hash=request_hash,
            )
    except IntegrityError:
        # Another request wrote the same report or used the same key at the same moment.
        if key:
            earlier = (
                RevenueReportRevision.all_objects.select_related("report")
                .filter(vendor_id=attribution.vendor_id, idempotency_key=key)
                .first()
            )
            if earlier is not None:
                return _replay(earlier, request_hash)
        return _report_write(
            attribution=attribution,
            period=period,
            amount=amount,
            currency=currency,
            source=source,
            actor=actor,
            key=key,
            request_hash=request_hash,
        )


def _replay(earlier: RevenueReportRevision, request_hash: str) -> RevenueReport:
    if earlier.request_hash != request_hash:
        raise ApplicationError(
            "This idempotency key was already used with other content.",
            extra={"idempotency_key": ["Already used with other content."]},
            status=409,
        )
    report = RevenueReport.all_objects.get(pk=earlier.report_id)
    report.replayed = True
    return report


def _report_write(*, attribution, period, amount, currency, source, actor, key, request_hash) -> RevenueReport:
    report = RevenueReport.all_objects.select_for_update().filter(attribution=attribution, period=period).first()
    user = actor if actor is not None and actor.is_authenticated else None
    if report is None:
        report = RevenueReport(
            attribution=attribution,
            vendor_id=attribution.vendor_id,
            period=period,
            amount=amount,
            currency=currency,
            source=source,
            idempotency_key=key,
            request_hash=request_hash,
            revision=1,
            created_by=user,
        )
        report.full_clean(validate_unique=False, validate_constraints=False)
        report.save()
        previous = None
        verb = "revenue_report.recorded"
    else:
        if report.amount == amount and not key:
            report.replayed = False
            return report
        previous = report.amount
        report.amount = amount
        report.source = source
        report.revision += 1
        report.idempotency_key = key
        report.request_hash = request_hash
        report.save()
        verb = "revenue_report.corrected" if previous != amount else "revenue_report.confirmed"
    RevenueReportRevision.all_objects.create(
        report=report,
        vendor_id=report.vendor_id,
        number=report.revision,
        amount=amount,
        previous_amount=previous,
        currency=currency,
        source=source,
        idempotency_key=key,
        request_hash=request_hash,
        created_by=user,
    )
    audit_record(
        actor=user,
        verb=verb,
        obj=report,
        organisation=attribution.vendor,
        data={
            "period": period.isoformat(),
            "amount": str(amount),
            "previous": None if previous is None else str(previous),
            "source": source,
        },
    )
    report.replayed = False
    return report


def _import_error(errors: list, row: int, field: str, message: str) -> None:
    errors.append({"row": row, "field": field, "message": message})


@transaction.atomic
def revenue_reports_import(*, vendor, rows: list[dict], actor, source: str = "vendor_csv") -> list[RevenueReport]:
    """Validate every row and import all of them, or none.

    Each row is a dict of strings: ``account`` (the MSP's name or slug), ``period``
    (``YYYY-MM`` or ``YYYY-MM-01``), ``amount`` (e.g. ``1234.50``), ``currency``
    (optional: USD or CAD, default the agreement's) and optionally ``row`` (the row
    number to report; default the position + 2, i.e. the CSV line under a header).
    Errors raise ApplicationError with ``extra={"rows": [{"row", "field", "message"}, ...]}``.
    """
    from engagements.models import Attribution

    _check_reporter(actor, vendor.pk, source)
    if not rows:
        raise ApplicationError(
            "The file has no rows.", extra={"rows": [{"row": 1, "field": "file", "message": "No rows."}]}
        )
    attributions = list(Attribution.all_objects.filter(vendor=vendor).select_related("msp", "engagement"))
    agreements = {
        a.engagement_id: a
        for a in Agreement.all_objects.filter(engagement_id__in={x.engagement_id for x in attributions})
    }
    by_name: dict[str, list] = defaultdict(list)
    for attribution in attributions:
        by_name[attribution.msp.name.strip().lower()].append(attribution)
        if attribution.msp.slug.lower() != attribution.msp.name.strip().lower():
            by_name[attribution.msp.slug.lower()].append(attribution)
    this_month = engine.first_of_month(timezone.localdate())

    errors: list[dict] = []
    valid: list[tuple] = []
    seen: dict[tuple[int, datetime.date], int] = {}
    for index, raw in enumerate(rows):
        row = int(raw.get("row") or index + 2)
        before = len(errors)
        account = str(raw.get("account") or "").strip()
        period = amount = None
        if not account:
            _import_error(errors, row, "account", "Name the account (the MSP's name).")
        try:
            if not str(raw.get("period") or "").strip():
                raise ApplicationError("Give the month as YYYY-MM.")
            period = _month(raw.get("period"))
            if period > this_month:
                _import_error(errors, row, "period", f"{period:%Y-%m} is in the future.")
                period = None
        except ApplicationError:
            _import_error(errors, row, "period", "Give the month as YYYY-MM.")
        try:
            if str(raw.get("amount") or "").strip() == "":
                raise ApplicationError("Give the amount.", extra={"amount": ["Give the amount."]})
            amount = _money(raw.get("amount"))
        except ApplicationError as exc:
            _import_error(errors, row, "amount", exc.extra.get("amount", [exc.message])[0])
        currency = str(raw.get("currency") or "").strip().upper() or None
        if currency is not None and currency not in Currency.values:
            _import_error(errors, row, "currency", "Use USD or CAD.")
            currency = None
        if account and period is not None:
            matches = [a for a in by_name.get(account.lower(), []) if _attributed_in(a, period)]
            if not matches:
                _import_error(errors, row, "account", f"No account named “{account}” is attributed in {period:%Y-%m}.")
            elif len({m.pk for m in matches}) > 1:
                _import_error(errors, row, "account", f"“{account}” is attributed to more than one desk.")
            else:
                attribution = matches[0]
                agreement = agreements.get(attribution.engagement_id)
                if agreement is None:
                    _import_error(errors, row, "account", "This account's desk has no agreement yet.")
                elif currency is not None and currency != agreement.currency:
                    _import_error(errors, row, "currency", f"This agreement is in {agreement.currency}.")
                elif (attribution.pk, period) in seen:
                    _import_error(
                        errors, row, "account", f"Duplicate: row {seen[(attribution.pk, period)]} already reports it."
                    )
                elif len(errors) == before and amount is not None:
                    seen[(attribution.pk, period)] = row
                    valid.append((attribution, period, amount, agreement.currency))
    if errors:
        count = len({e["row"] for e in errors})
        raise ApplicationError(
            f"{count} row{'s' if count != 1 else ''} of the file {'have' if count != 1 else 'has'} errors; "
            "nothing was imported.",
            extra={"rows": errors},
        )
    return [
        revenue_report_record(
            attribution=attribution, period=period, amount=amount, currency=currency, source=source, actor=actor
        )
        for attribution, period, amount, currency in valid
    ]


# --- statements -------------------------------------------------------------------------------


def statement_compute(*, agreement: Agreement, period: datetime.date) -> list[LineDraft]:
    """The lines of an agreement's statement for a month, computed in Python (writes nothing).

    The reference computation: ``statement_generate`` writes the same lines, the account
    lines in SQL (``commissions.generation``). A handful of queries, whatever the number of accounts.
    """
    from engagements.models import Attribution

    period = _month(period)
    engagement = agreement.engagement
    accounts = [
        engine.Account(id=pk, name=name, starts_on=starts_on, ended_on=ended_on)
        for pk, name, starts_on, ended_on in Attribution.all_objects.filter(
            engagement_id=agreement.engagement_id
        ).values_list("pk", "msp__name", "starts_on", "ended_on")
    ]
    revenue = {}
    for attribution_id, amount, currency in RevenueReport.all_objects.filter(
        attribution__engagement_id=agreement.engagement_id, period=period
    ).values_list("attribution_id", "amount", "currency"):
        if currency != agreement.currency:
            raise ApplicationError(generation.foreign_currency_reason(currency, agreement))
        revenue[attribution_id] = amount
    return engine.compute_lines(
        period=period,
        start=engagement.start_date,
        stop=engagement.stop_date,
        terms=generation.terms_of([agreement])[agreement.pk],
        accounts=accounts,
        revenue=revenue,
        corrections=generation.corrections_of([agreement], period).get(agreement.pk, []),
    )


@transaction.atomic
def statement_generate(
    *,
    agreement: Agreement,
    period: datetime.date,
    actor=None,
    run: StatementRun | None = None,
    skip_empty: bool = False,
) -> Statement | None:
    """Compute and store the draft statement of an agreement for a month, replacing an earlier draft.

    An approved, issued or paid statement is returned unchanged. Two calls at once give one
    statement (a unique constraint); the statement and its lines are written in this one
    transaction. With ``skip_empty`` no statement is created for an agreement past its tail
    with nothing to bill.
    """
    period = _month(period)
    if actor is not None and getattr(actor, "is_authenticated", False):
        _require(actor, FINANCE_ROLES | {Role.PARTNER}, "generate statements")
    written = generation.statements_write(
        agreements=[agreement], period=period, run=run, actor=actor, skip_finished=skip_empty
    )
    if agreement.pk in written.failed:
        raise ApplicationError(written.failed[agreement.pk])
    return written.statements.get(agreement.pk)


# --- statement runs ---------------------------------------------------------------------------


def agreements_for_period(period: datetime.date) -> list[int]:
    """Ids of the agreements a run for ``period`` computes: engagements started by the end of the month."""
    period = _month(period)
    return list(
        Agreement.all_objects.filter(engagement__start_date__lte=engine.last_of_month(period))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def _run_create(*, period: datetime.date, actor) -> StatementRun:
    if actor is not None:
        _require(actor, FINANCE_ROLES | {Role.PARTNER}, "start a statement run")
    period = _month(period)
    if period > engine.first_of_month(timezone.localdate()):
        raise ApplicationError("The month is in the future.", extra={"period": ["A month in the future."]})
    run = StatementRun(period=period, started_by=actor if actor is not None and actor.is_authenticated else None)
    _validate(run)
    run.save()
    audit_record(actor=run.started_by, verb="statement_run.started", obj=run, data={"period": period.isoformat()})
    return run


def statement_run_start(*, period: datetime.date, actor) -> StatementRun:
    """Start a statement run for a month: after commit a Celery task fans it out in batches of agreements."""
    run = _run_create(period=period, actor=actor)

    enqueue_on_commit("commissions.statement_run", run.pk)
    return run


def statement_run_now(*, period: datetime.date, actor) -> StatementRun:
    """Run a month's statement run to the end in this process, batch by batch (demo data, scripts)."""
    run = _run_create(period=period, actor=actor)
    for batch in statement_run_batches(statement_run_fan_out(run=run)):
        statement_run_generate_batch(run=run, agreement_ids=batch)
    run.refresh_from_db()
    return run


def statement_run_batches(agreement_ids: list[int]) -> list[list[int]]:
    """A run's agreements in batches of ``STATEMENT_RUN_BATCH_SIZE``, each written in one transaction."""
    size = max(1, settings.STATEMENT_RUN_BATCH_SIZE)
    return [agreement_ids[i : i + size] for i in range(0, len(agreement_ids), size)]


@transaction.atomic
def statement_run_fan_out(*, run: StatementRun) -> list[int]:
    """Mark a run as running with the number of agreements to compute; returns their ids."""
    run = StatementRun.objects.select_for_update().get(pk=run.pk)
    ids = agreements_for_period(run.period)
    run.total = len(ids)
    run.done = 0
    run.failed = 0
    run.status = StatementRun.Status.RUNNING if ids else StatementRun.Status.DONE
    run.started_at = timezone.now()
    run.finished_at = None if ids else run.started_at
    run.save()
    return ids


@transaction.atomic
def _run_count(run_id: int, *, done: int = 0, failed: int = 0, errors: Iterable[str] = ()) -> None:
    """Add to a run's counters (and errors) and finish it when every agreement is counted."""
    changes = {}
    if done:
        changes["done"] = F("done") + done
    if failed:
        changes["failed"] = F("failed") + failed
    errors = list(errors)
    if errors:
        run = StatementRun.objects.select_for_update().only("error").get(pk=run_id)
        changes["error"] = "\n".join(filter(None, [run.error, *errors]))[:2000]
    if changes:
        StatementRun.objects.filter(pk=run_id).update(**changes)
    StatementRun.objects.filter(
        pk=run_id, status=StatementRun.Status.RUNNING, done__gte=F("total") - F("failed")
    ).update(
        status=Case(
            When(failed__gt=0, then=Value(StatementRun.Status.FAILED)),
            default=Value(StatementRun.Status.DONE),
        ),
        finished_at=timezone.now(),
    )


def statement_run_generate_batch(*, run: StatementRun, agreement_ids: list[int]) -> generation.Written:
    """Generate the statements of a batch of agreements for a run and count them, in one transaction."""
    with transaction.atomic():
        agreements = list(
            Agreement.all_objects.select_related("engagement", "vendor").filter(pk__in=agreement_ids).order_by("pk")
        )
        written = generation.statements_write(
            agreements=agreements, period=run.period, run=run, actor=run.started_by, skip_finished=True
        )
        gone = sorted(set(agreement_ids) - {a.pk for a in agreements})
        errors = [f"Agreement {pk}: {reason}" for pk, reason in sorted(written.failed.items())]
        errors += [f"Agreement {pk}: it no longer exists." for pk in gone]
        _run_count(
            run.pk,
            done=len(written.statements) + len(written.skipped),
            failed=len(written.failed) + len(gone),
            errors=errors,
        )
    return written


def statement_run_generate_one(*, run: StatementRun, agreement: Agreement) -> Statement | None:
    """Generate one agreement's statement for a run and count it, in the same transaction."""
    with transaction.atomic():
        statement = statement_generate(
            agreement=agreement, period=run.period, run=run, actor=run.started_by, skip_empty=True
        )
        _run_count(run.pk, done=1)
    return statement


def statement_run_record_failure(*, run: StatementRun, agreement_id: int, error: str) -> None:
    """Count an agreement whose statement could not be computed, with the error for finance."""
    _run_count(run.pk, failed=1, errors=[f"Agreement {agreement_id}: {error}"])


# --- lifecycle --------------------------------------------------------------------------------


def _locked_statement(statement: Statement) -> Statement:
    return Statement.all_objects.select_for_update().select_related("agreement", "vendor").get(pk=statement.pk)


@transaction.atomic
def statement_approve(*, statement: Statement, actor) -> Statement:
    """Approve a draft statement (finance); from now on it is never recomputed."""
    _require(actor, FINANCE_ROLES, "approve statements")
    statement = _locked_statement(statement)
    if statement.status != Statement.Status.DRAFT:
        raise ApplicationError(f"Only a draft can be approved; this one is {statement.status}.", status=409)
    statement.status = Statement.Status.APPROVED
    statement.approved_at = timezone.now()
    statement.approved_by = actor
    statement.save(update_fields=["status", "approved_at", "approved_by", "updated_at"])
    audit_record(
        actor=actor,
        verb="statement.approved",
        obj=statement,
        organisation=statement.vendor,
        data={"total": str(statement.total)},
    )
    return statement


def _next_number(year: int) -> str:
    """The next gap-free number of ``year``, taken under a row lock (inside the caller's transaction)."""
    sequence, _ = StatementSequence.objects.select_for_update().get_or_create(year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return f"TMW-{year}-{sequence.last_number:04d}"


def _render_pdf(statement: Statement) -> tuple[str, str, bytes]:
    from commissions.pdf import render_statement_pdf

    return render_statement_pdf(statement)


def _store_pdf(statement: Statement) -> None:
    filename, _content_type, content = _render_pdf(statement)
    statement.pdf.save(filename, ContentFile(content), save=False)
    statement.pdf_sha256 = hashlib.sha256(content).hexdigest()


@transaction.atomic
def statement_issue(*, statement: Statement, actor) -> Statement:
    """Issue an approved statement: the next number of the year under a lock, and its PDF rendered once and stored.

    Should the PDF fail, the whole issue rolls back and the number is not used.
    """
    _require(actor, FINANCE_ROLES, "issue statements")
    statement = _locked_statement(statement)
    if statement.status != Statement.Status.APPROVED:
        raise ApplicationError(f"Only an approved statement can be issued; this one is {statement.status}.", status=409)
    now = timezone.now()
    statement.number = _next_number(timezone.localdate().year)
    statement.status = Statement.Status.ISSUED
    statement.issued_at = now
    statement.issued_by = actor
    _store_pdf(statement)
    statement.save()
    audit_record(
        actor=actor,
        verb="statement.issued",
        obj=statement,
        organisation=statement.vendor,
        data={"number": statement.number, "total": str(statement.total), "pdf_sha256": statement.pdf_sha256},
    )
    return statement


@transaction.atomic
def statement_mark_paid(*, statement: Statement, paid_on: datetime.date, reference: str, actor) -> Statement:
    """Record the payment of an issued statement: the date and the payment reference."""
    _require(actor, FINANCE_ROLES, "record payments")
    statement = _locked_statement(statement)
    if statement.status != Statement.Status.ISSUED or statement.is_credit_note:
        raise ApplicationError(f"Only an issued statement can be paid; this one is {statement.status}.", status=409)
    if paid_on is None:
        raise ApplicationError("Give the payment date.", extra={"paid_on": ["Required."]})
    if paid_on > timezone.localdate():
        raise ApplicationError("The payment date is in the future.", extra={"paid_on": ["In the future."]})
    reference = (reference or "").strip()
    if not reference:
        raise ApplicationError("Give the payment reference.", extra={"reference": ["Required."]})
    statement.status = Statement.Status.PAID
    statement.paid_on = paid_on
    statement.payment_reference = reference[:120]
    statement.save(update_fields=["status", "paid_on", "payment_reference", "updated_at"])
    audit_record(
        actor=actor,
        verb="statement.paid",
        obj=statement,
        organisation=statement.vendor,
        data={"paid_on": paid_on.isoformat(), "reference": statement.payment_reference},
    )
    return statement


@transaction.atomic
def statement_void(*, statement: Statement, reason: str, actor) -> Statement:
    """Void an issued statement with a credit note that refers to it; returns the credit note.

    The credit note takes the next number, negates every line and stores its own PDF; the
    month can then be computed again by a new run.
    """
    _require(actor, FINANCE_ROLES, "void statements")
    statement = _locked_statement(statement)
    if statement.status != Statement.Status.ISSUED or statement.is_credit_note:
        raise ApplicationError(
            f"Only an issued, unpaid statement can be voided; this one is {statement.status}.", status=409
        )
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Say why the statement is voided.", extra={"reason": ["Required."]})
    now = timezone.now()
    statement.status = Statement.Status.VOID
    statement.voided_at = now
    statement.void_reason = reason
    statement.save(update_fields=["status", "voided_at", "void_reason", "updated_at"])
    credit = Statement.all_objects.create(
        agreement=statement.agreement,
        vendor_id=statement.vendor_id,
        period=statement.period,
        status=Statement.Status.ISSUED,
        number=_next_number(timezone.localdate().year),
        currency=statement.currency,
        total=-statement.total,
        equity_total=-statement.equity_total,
        credit_note_for=statement,
        generated_at=now,
        issued_at=now,
        issued_by=actor,
        void_reason=reason,
    )
    StatementLine.all_objects.bulk_create(
        [
            StatementLine(
                statement=credit,
                kind=StatementLine.Kind.CREDIT,
                description=f"Credit: {line.description}"[:300],
                attribution_id=line.attribution_id,
                revenue=line.revenue,
                account_year=line.account_year,
                rate=line.rate,
                amount=-line.amount,
                corrects_period=line.corrects_period,
                order=line.order,
            )
            for line in statement.lines.order_by("order", "pk")
        ]
    )
    _store_pdf(credit)
    credit.save(update_fields=["pdf", "pdf_sha256"])
    audit_record(
        actor=actor,
        verb="statement.voided",
        obj=statement,
        organisation=statement.vendor,
        data={"reason": reason, "credit_note": credit.number},
    )
    audit_record(
        actor=actor,
        verb="statement.credit_note_issued",
        obj=credit,
        organisation=statement.vendor,
        data={"number": credit.number, "for": statement.number, "total": str(credit.total)},
    )
    return credit


# --- missing revenue reports ------------------------------------------------------------------


def missing_reports_notify(*, period: datetime.date) -> int:
    """Email finance the accounts without a revenue report for ``period``, and each vendor's admins theirs.

    Returns the number of emails sent. Call inside the operator scope.
    """
    from django.core.mail import send_mass_mail

    from commissions.selectors import missing_revenue_reports
    from tmw.accounts.models import User

    period = _month(period)
    missing = missing_revenue_reports(period=period)
    if not missing:
        return 0
    month = f"{period:%B %Y}"
    by_vendor: dict[int, list] = defaultdict(list)
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
